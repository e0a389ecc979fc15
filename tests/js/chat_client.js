// Connects to meshkit messaging with the official socket.io client, sends one message
// (with an ack), prints READY, waits for a message sent by the test, then prints a JSON
// summary and exits. Usage: node chat_client.js <url> <token> <channel id>
const { io } = require("socket.io-client");

const [url, token, channelId] = process.argv.slice(2);
const socket = io(url, { auth: { token }, reconnection: false });
const out = {};

function finish(code) {
  console.log(JSON.stringify(out));
  socket.close();
  process.exit(code);
}

socket.on("connect_error", (error) => {
  out.connect_error = { message: error.message, data: error.data };
  finish(2);
});
socket.on("message.created", (message) => {
  if (message.content === "from python") {
    out.received = message;
    out.transport = socket.io.engine.transport.name;
    finish(0);
  }
});
socket.on("connect", async () => {
  out.ack = await socket.timeout(5000).emitWithAck("message.send", {
    channel_id: channelId,
    content: "from node",
  });
  out.bad_ack = await socket.timeout(5000).emitWithAck("message.send", { nonsense: true });
  console.log("READY");
});
setTimeout(() => {
  out.timeout = true;
  finish(3);
}, 15000);

// Connects to meshkit messaging with the official socket.io client, sends one message
// (with an ack), prints READY, waits for a message sent by the test, then prints a JSON
// summary and exits. Usage: node chat_client.js <url> <token> <channel id> [<renewal>]
// With a renewal token (same user, another session), it hands that token to the open
// connection (the `auth` emit), prints RECEIVED once the test's message came, and
// waits for the server to end the session (session.ended, then a server disconnect).
const { io } = require("socket.io-client");

const [url, token, channelId, renewal] = process.argv.slice(2);
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
    if (renewal) {
      console.log("RECEIVED");
    } else {
      finish(0);
    }
  }
});
socket.on("session.ended", (problem) => {
  out.session_ended = problem;
});
socket.on("disconnect", (reason) => {
  out.disconnect_reason = reason;
  if (out.session_ended) finish(0);
});
socket.on("connect", async () => {
  out.ack = await socket.timeout(5000).emitWithAck("message.send", {
    channel_id: channelId,
    content: "from node",
  });
  out.bad_ack = await socket.timeout(5000).emitWithAck("message.send", { nonsense: true });
  if (renewal) {
    out.renewed = await socket.timeout(5000).emitWithAck("auth", { token: renewal });
  }
  console.log("READY");
});
setTimeout(() => {
  out.timeout = true;
  finish(3);
}, 15000);

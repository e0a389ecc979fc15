// Joins a meshkit voice room from a browser. REST and signaling go to this page's own
// origin, which examples/voice_web/server.py forwards to the gateway. The server always
// offers: m-line 0 of every offer receives our microphone, each further m-line sends us
// one other participant (named in the offer's `streams`, mid -> user id, and in later
// `voice.streams` pushes when an m-line is reassigned). See docs/voice.md. `window.voiceTest` (at the end) lets tests read what the page sees.
"use strict";

const $ = (id) => document.getElementById(id);

/** An RFC 9457 problem document answered by the API or in an ack. */
class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `failed (${status})`);
    this.status = status;
    this.problem = body;
  }
}

const session = { token: null, refreshToken: null, refreshTimer: null, me: null };
let call = null; // the Call in progress, if any
let state = "signed-out"; // signed-out | signed-in | joining | joined | left | error
const errors = [];

function show(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.className = kind;
  if (kind === "error") errors.push(text);
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw new Problem(response.status, data);
  return data;
}

// --- signing in ------------------------------------------------------------------------

async function signedIn(tokens) {
  session.token = tokens.access_token;
  session.refreshToken = tokens.refresh_token || null;
  scheduleRefresh(tokens.expires_in);
  session.me = (await api("GET", "/v1/users/me")).id;
  state = "signed-in";
  $("signin").hidden = true;
  $("rooms").hidden = false;
  show(`Signed in as ${session.me}.`);
  await loadRooms();
}

// An access token lasts minutes; a call may last longer. Renew it before it expires and
// hand the new one to the signaling connection (its `auth` emit), or the server ends the
// session. A pasted token cannot be renewed: the call ends with it.
function scheduleRefresh(expiresIn) {
  clearTimeout(session.refreshTimer);
  if (!session.refreshToken || !expiresIn) return;
  session.refreshTimer = setTimeout(refresh, Math.max(5, expiresIn * 0.8) * 1000);
}

async function refresh() {
  try {
    const tokens = await api("POST", "/v1/auth/refresh", { refresh_token: session.refreshToken });
    session.token = tokens.access_token;
    session.refreshToken = tokens.refresh_token;
    scheduleRefresh(tokens.expires_in);
    if (call && call.socket && call.socket.connected) {
      call.socket.auth.token = session.token;
      await call.emit("auth", { token: session.token });
    }
  } catch (error) {
    show(`Could not renew the session: ${error.message}`, "error");
  }
}

// --- rooms -----------------------------------------------------------------------------

async function loadRooms() {
  const rooms = await api("GET", "/v1/voice/rooms");
  const list = $("room-list");
  list.replaceChildren();
  for (const room of rooms) {
    const item = document.createElement("li");
    item.textContent = `${room.name} (${room.participant_count}/${room.max_participants})`;
    const join = document.createElement("button");
    join.type = "button";
    join.textContent = "Join";
    join.addEventListener("click", () => joinRoom(room.id));
    item.append(join);
    list.append(item);
  }
}

// --- a call ----------------------------------------------------------------------------

class Call {
  constructor(roomId, ticket) {
    this.roomId = roomId;
    this.ticket = ticket;
    this.participants = new Map(); // user id -> participant, as the server last said
    this.streams = {}; // mid -> user id, from the latest offer or voice.streams
    this.audio = new Map(); // mid -> <audio> playing that m-line
    this.candidates = []; // what we sent, for tests and debugging
    this.muted = false;
    this.deafened = false;
    this.offers = Promise.resolve(); // offers are answered one at a time, in order
    this.ended = false;
  }

  /** An acked emit; resolves to the ack's fields, throws its problem. */
  async emit(event, payload) {
    const ack = await this.socket.timeout(15000).emitWithAck(event, payload);
    if (!ack || !ack.ok) {
      const problem = (ack && ack.error) || { title: "no answer" };
      throw new Problem(problem.status, problem);
    }
    return ack;
  }

  async start() {
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    this.pc = new RTCPeerConnection({ iceServers: this.ticket.ice_servers });
    this.pc.onicecandidate = (event) => {
      if (event.candidate && event.candidate.candidate) this.trickle(event.candidate.toJSON());
    };
    this.pc.ontrack = (event) => this.play(event.transceiver.mid, event.track);
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === "failed") this.end("the media connection failed");
    };
    this.socket = io({
      path: this.ticket.signaling_path,
      // which voice instance hosts the room (`?room=…`): the gateway routes by it
      query: this.ticket.signaling_query || {},
      auth: { token: session.token },
      transports: ["websocket"],
      reconnection: false, // a new connection would not be in the room: join again instead
    });
    this.socket.on("voice.offer", (offer) => this.answer(offer));
    // an m-line now carries someone else (or no one), without a new offer
    this.socket.on("voice.streams", ({ streams }) => {
      this.offers = this.offers.then(() => {
        this.streams = streams || {};
      });
    });
    this.socket.on("voice.participant.joined", (e) => this.update(e.participant));
    this.socket.on("voice.participant.updated", (e) => this.update(e.participant));
    this.socket.on("voice.participant.left", (e) => {
      this.participants.delete(e.participant.user_id);
      this.render();
    });
    this.socket.on("voice.speaking", (e) => {
      const someone = this.participants.get(e.user_id);
      if (someone) {
        someone.speaking = e.speaking;
        this.render();
      }
    });
    this.socket.on("voice.ended", (e) => this.end(`removed from the room (${e.reason})`));
    this.socket.on("session.ended", (problem) => this.end(`session ended: ${problem.detail || problem.title}`));
    this.socket.on("disconnect", (reason) => this.end(`signaling disconnected (${reason})`));
    await new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("connect_error", (error) =>
        reject(new Problem(error.data && error.data.status, error.data || { title: error.message })),
      );
    });
    const joined = await this.emit("voice.join", { room_id: this.roomId });
    for (const someone of joined.participants) this.participants.set(someone.user_id, someone);
    this.update(joined.participant);
    await this.answer(joined.offer);
  }

  answer(offer) {
    this.offers = this.offers.then(async () => {
      if (this.ended) return;
      try {
        this.streams = offer.streams || {};
        await this.pc.setRemoteDescription({ type: offer.type, sdp: offer.sdp });
        const mine = this.pc.getTransceivers()[0]; // m-line 0: the server receives our mic
        if (!mine.sender.track) {
          await mine.sender.replaceTrack(this.mic.getAudioTracks()[0]);
          mine.direction = "sendrecv"; // answered as sendonly: the server offers recvonly
        }
        await this.pc.setLocalDescription(await this.pc.createAnswer());
        await this.emit("voice.answer", { sdp: this.pc.localDescription.sdp });
      } catch (error) {
        this.end(`could not answer the server's offer: ${error.message}`);
      }
    });
    return this.offers;
  }

  async trickle(candidate) {
    this.candidates.push(candidate);
    try {
      await this.emit("voice.candidate", candidate);
    } catch (error) {
      console.warn("candidate refused", candidate, error.problem || error);
    }
  }

  play(mid, track) {
    let element = this.audio.get(mid);
    if (!element) {
      element = document.createElement("audio");
      element.autoplay = true;
      $("audio").append(element);
      this.audio.set(mid, element);
    }
    element.srcObject = new MediaStream([track]);
    element.muted = this.deafened;
    element.play().catch(() => {}); // autoplay may wait for a click; Join was one
  }

  update(participant) {
    this.participants.set(participant.user_id, participant);
    if (participant.user_id === session.me) {
      this.muted = participant.muted;
      this.deafened = participant.deafened;
    }
    this.render();
  }

  render() {
    const list = $("participants");
    list.replaceChildren();
    for (const someone of this.participants.values()) {
      const item = document.createElement("li");
      item.dataset.userId = someone.user_id;
      item.classList.toggle("speaking", Boolean(someone.speaking));
      item.textContent = someone.user_id + (someone.user_id === session.me ? " (you)" : "");
      const flags = ["muted", "deafened", "server_muted"].filter((flag) => someone[flag]);
      if (flags.length) {
        const note = document.createElement("span");
        note.className = "flags";
        note.textContent = flags.join(", ").replace("server_muted", "muted by a moderator");
        item.append(note);
      }
      list.append(item);
    }
    $("mute-button").setAttribute("aria-pressed", String(this.muted));
    $("mute-button").textContent = this.muted ? "Unmute" : "Mute";
    $("deafen-button").setAttribute("aria-pressed", String(this.deafened));
    $("deafen-button").textContent = this.deafened ? "Undeafen" : "Deafen";
  }

  /** Self mute and deafen: the server stops forwarding, and this page stops too. */
  async setState(change) {
    const ack = await this.emit("voice.state", change);
    this.update(ack.participant);
    this.mic.getAudioTracks()[0].enabled = !this.muted; // muted sends silence, not speech
    for (const element of this.audio.values()) element.muted = this.deafened;
  }

  async leave() {
    if (this.ended) return;
    try {
      await this.emit("voice.leave", {});
    } finally {
      this.end("left the room", "info");
    }
  }

  end(why, kind = "error") {
    if (this.ended) return;
    this.ended = true;
    if (call === this) call = null;
    this.pc && this.pc.close();
    this.mic && this.mic.getTracks().forEach((track) => track.stop());
    this.socket && this.socket.disconnect();
    for (const element of this.audio.values()) element.remove();
    state = kind === "error" ? "error" : "left";
    $("call").hidden = true;
    $("rooms").hidden = false;
    show(`Not in a room: ${why}.`, kind);
  }
}

async function joinRoom(roomId) {
  if (call) return;
  state = "joining";
  show("Joining…");
  try {
    const ticket = await api("POST", `/v1/voice/rooms/${encodeURIComponent(roomId)}/join`);
    call = new Call(roomId, ticket);
    $("room-title").textContent = ticket.room.name;
    $("rooms").hidden = true;
    $("call").hidden = false;
    await call.start();
    if (call && !call.ended) {
      state = "joined";
      show(`In ${ticket.room.name}.`);
    }
  } catch (error) {
    if (call) call.end(`could not join: ${error.message}`);
    else {
      state = "error";
      show(`Could not join: ${error.message}`, "error");
    }
  }
}

// --- wiring ----------------------------------------------------------------------------

function onSubmit(id, handler) {
  $(id).addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await handler(new FormData(event.target));
    } catch (error) {
      show(error.message, "error");
    }
  });
}

onSubmit("login-form", async (form) => {
  session.token = null;
  const tokens = await api("POST", "/v1/auth/login", {
    login: form.get("login"),
    password: form.get("password"),
  });
  await signedIn(tokens);
});
onSubmit("token-form", (form) => signedIn({ access_token: String(form.get("token")).trim() }));
onSubmit("create-form", async (form) => {
  const room = await api("POST", "/v1/voice/rooms", { name: form.get("name") });
  $("room-id").value = room.id;
  await loadRooms();
});
onSubmit("join-form", (form) => joinRoom(String(form.get("room_id")).trim()));
$("refresh-button").addEventListener("click", () => loadRooms().catch((e) => show(e.message, "error")));
$("mute-button").addEventListener("click", () =>
  call && call.setState({ muted: !call.muted }).catch((e) => show(e.message, "error")),
);
$("deafen-button").addEventListener("click", () =>
  call && call.setState({ deafened: !call.deafened }).catch((e) => show(e.message, "error")),
);
$("leave-button").addEventListener("click", () => call && call.leave());
const room = new URLSearchParams(location.search).get("room");
if (room) $("room-id").value = room;

// --- for tests -------------------------------------------------------------------------

/** Per received m-line: who it is (from the offer's `streams`) and its inbound-rtp audio. */
async function inboundAudio() {
  if (!call || !call.pc) return [];
  const found = [];
  for (const transceiver of call.pc.getTransceivers()) {
    if (transceiver.mid === null || transceiver.currentDirection === "stopped") continue;
    const report = await transceiver.receiver.getStats();
    report.forEach((s) => {
      if (s.type !== "inbound-rtp" || s.kind !== "audio") return;
      found.push({
        mid: transceiver.mid,
        userId: call.streams[transceiver.mid] || null,
        packetsReceived: s.packetsReceived || 0,
        packetsLost: s.packetsLost || 0,
        bytesReceived: s.bytesReceived || 0,
        jitter: s.jitter || 0,
        audioLevel: s.audioLevel || 0,
        totalAudioEnergy: s.totalAudioEnergy || 0,
        totalSamplesDuration: s.totalSamplesDuration || 0,
      });
    });
  }
  return found;
}

/** Addresses of the ICE candidates in play, and of the pair carrying the media. */
async function iceAddresses() {
  if (!call || !call.pc) return null;
  const report = await call.pc.getStats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  const addresses = (type) =>
    [...byId.values()].filter((s) => s.type === type).map((s) => s.address || s.ip);
  const transport = [...byId.values()].find((s) => s.type === "transport");
  const pair = transport && byId.get(transport.selectedCandidatePairId);
  return {
    local: addresses("local-candidate"),
    remote: addresses("remote-candidate"),
    selected: pair
      ? {
          local: (byId.get(pair.localCandidateId) || {}).address,
          remote: (byId.get(pair.remoteCandidateId) || {}).address,
        }
      : null,
  };
}

window.voiceTest = {
  get state() {
    return state;
  },
  get me() {
    return session.me;
  },
  get participants() {
    return call ? [...call.participants.values()].map((p) => ({ ...p })) : [];
  },
  get connectionState() {
    return call && call.pc ? call.pc.connectionState : null;
  },
  get candidates() {
    return call ? [...call.candidates] : [];
  },
  get errors() {
    return [...errors];
  },
  inboundAudio,
  iceAddresses,
};

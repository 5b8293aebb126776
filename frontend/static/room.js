// The live room page: one event loop fed by the room's WebSocket (docs/protocol.md).
//
// The server renders the room at a `seq` and gives it to this module in #room-data;
// the module joins with `since` set to that `seq`, so the events after it arrive by
// replay, then live: none is missed, none is shown twice (an event whose `seq` is not
// above the last one applied is dropped). After a cut it reconnects by itself, with
// backoff and jitter, and resumes from the last `seq` it applied; what a person was
// typing stays in the box. Every string comes from the catalog in #room-text. Text
// from people is set with textContent; only the agenda, rendered and sanitized by the
// server, is set as HTML.

import { fillSpeakers, showConference, voiceText, wireVoiceForm } from "./voice.js";
import { changesEquity, pausedText, queueTags, renderBudgets, renderEquity } from "./floor.js";

const root = document.getElementById("room");
const data = JSON.parse(document.getElementById("room-data").textContent);
const T = JSON.parse(document.getElementById("room-text").textContent);
const lang = document.documentElement.lang || undefined;
const plurals = new Intl.PluralRules(lang);
const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(lang, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
let regionNames = null;
try {
  regionNames = new Intl.DisplayNames(lang ? [lang] : undefined, { type: "region" });
} catch {
  regionNames = null;
}

const STATE_KEYS = ["session", "queue_policy", "observer_seats", "queue", "floor", "spoken", "budgets"];
const $ = (id) => document.getElementById(id);

function t(key, values = {}) {
  const text = T[key] ?? key;
  return String(text).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function tn(key, count, values = {}) {
  const forms = T[key];
  const form = forms[plurals.select(count)] ?? forms.other;
  return String(form).replace(/\{(\w+)\}/g, (_, name) => String(name === "count" ? count : values[name] ?? ""));
}

// A catalog string with nodes in its placeholders (a name in <bdi>, say).
function fill(key, values) {
  return String(T[key]).split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = part.match(/^\{(\w+)\}$/)?.[1];
    return name && name in values ? values[name] : part;
  });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

const bdi = (text) => el("bdi", {}, text);

function localTime(node) {
  const iso = node.getAttribute("datetime");
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return;
  node.textContent = (node.dataset.local === "datetime" ? dateTimeFormat : timeFormat).format(moment);
}

function stamp(iso) {
  const node = el("time", { datetime: iso, "data-local": "time" }, iso.slice(11, 16));
  localTime(node);
  return node;
}

// -- the room as the page knows it -------------------------------------------------

let seq = data.seq;
const state = { ...data.state };
// Presence comes with `joined`; until then the server's list stands.
const presence = { ver: 0, users: new Map(), spectators: 0, spectatorsVer: 0, known: false };
const me = data.me;
let seat = data.seat;
let clockOffset = Date.parse(data.server_time) - Date.now();

// -- the connection ----------------------------------------------------------------

let socket = null;
let attempt = 0;
let live = false;
let refs = 0;
let joinRef = null;
let askedSeat = null;
let replayLeft = 0;
let signedOut = false;
const pending = new Map(); // ref -> {body, node, seq, confirmed}

function setConnection(kind) {
  const status = $("conn");
  status.dataset.state = kind;
  if (kind === "live") {
    status.textContent = me ? t("joined_as", { seat: T.seats[seat] ?? seat }) : t("watching");
  } else if (kind === "signed_out") {
    status.textContent = t("signed_out");
  } else {
    status.textContent = t(kind);
  }
  live = kind === "live";
  for (const button of root.querySelectorAll("[data-live]")) button.disabled = !live;
  renderControls();
}

const errorBoxes = new Map(); // ref -> the id of the element a refusal is shown in

function send(frame, errorBox = "chair-error") {
  if (!socket || socket.readyState !== WebSocket.OPEN) return null;
  refs += 1;
  const ref = `p${refs}`;
  errorBoxes.set(ref, errorBox);
  socket.send(JSON.stringify({ ...frame, ref }));
  return ref;
}

function join(asked) {
  askedSeat = asked;
  const frame = { type: "join", room: data.room, seat: asked, since: seq };
  joinRef = send(frame);
}

function connect() {
  setConnection(attempt ? "reconnecting" : "connecting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.addEventListener("message", (message) => handle(JSON.parse(message.data)));
  socket.addEventListener("close", (event) => {
    socket = null;
    for (const item of pending.values()) {
      if (!item.confirmed) item.node.querySelector(".state").textContent = t("unconfirmed");
    }
    if (event.code === 4401) {
      signedOut = true;
      setConnection("signed_out");
      return;
    }
    setConnection("reconnecting");
    // Exponential backoff with jitter, so that a restarted server is not met by every
    // page at once.
    const delay = Math.min(15000, 400 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2);
    attempt += 1;
    setTimeout(connect, delay);
  });
}

function handle(frame) {
  switch (frame.type) {
    case "hello":
      clockOffset = Date.parse(frame.server_time) - Date.now();
      join(seat);
      return;
    case "joined":
      onJoined(frame);
      return;
    case "presence":
      applyPresence(frame);
      return;
    case "ack":
      onAck(frame);
      return;
    case "error":
      onError(frame);
      return;
    case "equity":
      renderEquity($("equity-tables"), frame.equity, el, t, T);
      return;
    case "seat":
      onSeat(frame);
      return;
    case "pong":
    case "left":
      return;
    default:
      if (typeof frame.seq === "number") applyEvent(frame);
  }
}

function onJoined(frame) {
  attempt = 0;
  seat = frame.seat;
  if (askedSeat && me) {
    const url = new URL(location.href);
    url.searchParams.set("seat", seat);
    history.replaceState(null, "", url);
  }
  hideError("seat-error");
  presence.ver = frame.presence.ver;
  presence.users = new Map(frame.presence.users.map((user) => [user.user_id, user]));
  presence.spectators = frame.presence.spectators ?? 0;
  presence.spectatorsVer = frame.presence.ver;
  presence.known = true;
  if (frame.state) {
    // A resync: the room moved on further than a replay covers.
    if (frame.state.seq > seq) showMissed();
    Object.assign(state, frame.state);
    seq = frame.state.seq;
    renderSession();
  }
  replayLeft = frame.replay;
  setConnection("live");
  askEquity();
  renderAll();
  renderConference();
  if (!replayLeft) settleUnconfirmed();
}

function onSeat(frame) {
  // The server moved this connection (a change of standing, an access window's end).
  seat = frame.seat;
  const url = new URL(location.href);
  url.searchParams.set("seat", seat);
  history.replaceState(null, "", url);
  const chosen = root.querySelector(`#seat-form input[value="${seat}"]`);
  if (chosen) chosen.checked = true;
  setConnection("live");
  renderAll();
  if (frame.reason === "window") say(t("window_you", { seat: T.seats[seat] ?? seat }));
}

function addWindowNote(event) {
  for (const [after, key] of [["observer", "window_observe"], [null, "window_out"]]) {
    const names = event.moved.filter((moved) => moved.seat === after).map((moved) => moved.name);
    if (names.length) addNote(event, t(key, { names: names.join(", ") }));
  }
}

function showMissed() {
  const stream = $("stream");
  stream.append(el("li", { class: "note missed" }, t("missed")));
}

// -- events ------------------------------------------------------------------------

function applyEvent(event) {
  if (event.seq <= seq) return;
  seq = event.seq;
  for (const key of STATE_KEYS) if (key in event) state[key] = event[key];
  const replaying = replayLeft > 0;
  if (replaying) replayLeft -= 1;
  if (event.type === "intervention") {
    addIntervention(event);
  } else if (event.type === "floor") {
    addFloorNote(event, replaying);
  } else if (event.type === "window" && event.op === "end") {
    addWindowNote(event);
  } else if (event.type === "session") {
    if (event.op === "open" || event.op === "close") {
      if (event.op === "open") addNote(event, t("session_opened"));
      else addNote(event, t("session_closed"), " ", el("a", { href: `/sessions/${event.closed.id}/transcript` }, t("transcript")));
      renderSession(event);
      renderConference();
    } else if (event.op === "schedule" || event.op === "edit") {
      data.upcoming = [...data.upcoming.filter((item) => item.id !== event.scheduled.id), event.scheduled]
        .sort((a, b) => a.starts_at.localeCompare(b.starts_at));
      renderUpcoming();
    } else if (event.op === "cancel") {
      data.upcoming = data.upcoming.filter((item) => item.id !== event.cancelled.id);
      renderUpcoming();
    }
  }
  renderAll();
  if (changesEquity(event) && !replayLeft) askEquity();
  if (replaying && replayLeft === 0) settleUnconfirmed();
}

// The chair's figures are asked for again after each change, at most one question
// waiting at a time.
let equityAsked = false;
function askEquity() {
  if (!data.is_chair || !state.session || !$("equity-tables") || equityAsked) return;
  equityAsked = true;
  setTimeout(() => {
    equityAsked = false;
    send({ type: "get_equity" });
  }, 150);
}

function follow(update) {
  const box = $("stream-box");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
  update();
  if (atBottom) {
    box.scrollTop = box.scrollHeight;
  } else {
    $("jump").hidden = false;
  }
}

function interventionNode(event) {
  const family = T.families[event.family] ?? event.family;
  const who = el("p", { class: "who" }, el("strong", {}, bdi(event.name)), " ",
    el("span", { class: "muted" }, family + (event.seat === "remote" ? ` · ${T.seats.remote}` : "")), " ", stamp(event.at));
  return el("li", { class: "said", id: `seq-${event.seq}`, "data-seq": String(event.seq) },
    who, el("p", { class: "body", dir: "auto" }, event.body));
}

function addIntervention(event) {
  const node = interventionNode(event);
  let replaced = false;
  for (const [ref, item] of pending) {
    const mine = me && event.user_id === me.id;
    if (item.seq === event.seq || (mine && !item.confirmed && item.seq === null && item.body === event.body)) {
      item.node.replaceWith(node);
      pending.delete(ref);
      replaced = true;
      break;
    }
  }
  if (!replaced) follow(() => insertBeforePending(node));
}

function insertBeforePending(node) {
  const stream = $("stream");
  const firstPending = stream.querySelector("li.pending");
  if (firstPending) firstPending.before(node);
  else stream.append(node);
}

function addNote(event, text, ...more) {
  const node = el("li", { class: "note", id: `seq-${event.seq}`, "data-seq": String(event.seq) }, stamp(event.at), " ", text, ...more);
  follow(() => insertBeforePending(node));
}

function addFloorNote(event, replaying) {
  if (event.op === "give") {
    const floor = event.floor;
    const text = floor.limit_s ? t("floor_given_for", { name: floor.name, seconds: floor.limit_s }) : t("floor_given", { name: floor.name });
    const tags = queueTags({ point_of_order: floor.point_of_order, note: event.note }, el, t, T);
    addNote(event, text, ...tags);
    if (!replaying && me && floor.user_id === me.id) say(t("floor_you"));
  } else if (event.op === "take") {
    addNote(event, t(event.reason === "expired" ? "floor_expired" : "floor_back"));
  } else if (event.op === "extend") {
    addNote(event, t("floor_extended", { seconds: event.seconds }));
  } else if (event.op === "voice") {
    addNote(event, voiceText(event, t));
  } else if (event.op === "pause" || event.op === "resume") {
    addNote(event, t(event.op === "pause" ? "floor_paused" : "floor_resumed"));
  } else if (event.op === "budgets" && "budgets" in event) {
    addNote(event, t("budgets_changed"));
  }
}

function say(text) {
  // Interventions and floor changes reach screen readers politely, through the
  // stream's role="log"; only what concerns the reader directly interrupts.
  const region = $("assertive");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

function applyPresence(frame) {
  for (const user of frame.users ?? []) {
    const known = presence.users.get(user.user_id);
    if (user.ver > presence.ver && (!known || known.ver < user.ver)) presence.users.set(user.user_id, user);
  }
  for (const gone of frame.left ?? []) {
    const known = presence.users.get(gone.user_id);
    if (gone.ver > presence.ver && (!known || known.ver < gone.ver)) presence.users.delete(gone.user_id);
  }
  const counted = frame.spectators;
  if (counted && counted.ver > presence.spectatorsVer) {
    presence.spectators = counted.count;
    presence.spectatorsVer = counted.ver;
  }
  renderPresence();
}

// -- answers -----------------------------------------------------------------------

function onAck(frame) {
  errorBoxes.delete(frame.ref);
  const item = pending.get(frame.ref);
  if (!item) return;
  item.confirmed = true;
  item.seq = frame.seq;
  if (document.getElementById(`seq-${frame.seq}`)) {
    item.node.remove();
    pending.delete(frame.ref);
  } else {
    item.node.classList.replace("pending", "sent");
    item.node.querySelector(".state").textContent = "";
  }
}

function onError(frame) {
  if (frame.ref && frame.ref === joinRef) {
    if (askedSeat !== seat && live) {
      // A refused change of seat: the server kept the old one, and so does the page.
      showError("seat-error", frame.message);
      const current = root.querySelector(`#seat-form input[value="${seat}"]`);
      if (current) current.checked = true;
    } else {
      showError("seat-error", frame.message);
      $("conn").textContent = t("not_joined", { message: frame.message });
      $("conn").dataset.state = "refused";
    }
    return;
  }
  const item = pending.get(frame.ref);
  if (item) {
    item.node.remove();
    pending.delete(frame.ref);
    const box = $("speak-body");
    if (box && !box.value) box.value = item.body;
    updateCounter();
    showError("speak-error", frame.message);
    return;
  }
  const box = errorBoxes.get(frame.ref) ?? "chair-error";
  errorBoxes.delete(frame.ref);
  showError(box, frame.message);
}

function settleUnconfirmed() {
  // Lines sent before a cut and not seen in the replay may not have arrived: they go
  // back in the box rather than be sent twice unseen.
  for (const [ref, item] of pending) {
    if (item.confirmed) continue;
    item.node.remove();
    pending.delete(ref);
    const box = $("speak-body");
    if (box) {
      box.value = box.value ? `${item.body}\n${box.value}` : item.body;
      updateCounter();
      showError("speak-error", t("resend"));
    }
  }
}

function showError(id, message) {
  const node = $(id);
  if (!node) return;
  node.textContent = message;
  node.hidden = false;
}

function hideError(id) {
  const node = $(id);
  if (node) node.hidden = true;
}

// -- rendering -----------------------------------------------------------------------

function renderAll() {
  renderFloor();
  renderBudgets($("budgets-box"), $("budgets"), state, Date.now() + clockOffset, el, T);
  renderQueue();
  renderPresence();
  renderControls();
}

function renderSession(event) {
  const box = $("session");
  const title = $("session-title");
  const session = state.session;
  for (const old of box.querySelectorAll(":scope > p, :scope > details")) old.remove();
  if (!session) {
    title.textContent = t("no_session");
  } else {
    title.replaceChildren(bdi(session.title));
    const when = el("p", { class: "muted" }, el("span", { id: "session-format" }, T.formats[session.format] ?? session.format), " · ");
    for (const [index, iso] of [session.starts_at, session.ends_at].entries()) {
      const node = el("time", { datetime: iso, "data-local": "datetime" }, iso);
      localTime(node);
      if (index) when.append(" – ");
      when.append(node);
    }
    title.after(when);
    if (session.agenda_html) {
      const body = el("div", { class: "agenda-body" });
      body.innerHTML = session.agenda_html; // rendered and sanitized by the server
      when.after(el("details", { class: "agenda", open: true }, el("summary", {}, t("agenda")), body));
    }
  }
  if (event && event.op === "open") {
    data.upcoming = data.upcoming.filter((item) => item.id !== session.id);
  }
  renderUpcoming();
}

function renderUpcoming() {
  const items = data.upcoming.map((item) => {
    const node = el("time", { datetime: item.starts_at, "data-local": "datetime" }, item.starts_at);
    localTime(node);
    return el("li", {}, bdi(item.title), ` · ${T.formats[item.format] ?? item.format} · `, node);
  });
  $("upcoming").replaceChildren(...(items.length ? [el("h3", {}, t("coming_up")), el("ul", { class: "upcoming" }, ...items)] : []));
}

function secondsLeft() {
  const floor = state.floor;
  if (!floor || !floor.ends_at) return null;
  return Math.max(0, Math.round((Date.parse(floor.ends_at) - (Date.now() + clockOffset)) / 1000));
}

function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

function renderFloor() {
  const node = $("floor-now");
  const floor = state.floor;
  if (!floor) {
    node.textContent = t("floor_none");
    node.classList.remove("mine");
    return;
  }
  const mine = me && floor.user_id === me.id;
  node.classList.toggle("mine", Boolean(mine));
  const who = el("strong", {}, ...(mine ? [t("floor_you")] : fill("floor_holder", { name: bdi(floor.name) })));
  const left = secondsLeft();
  const parts = [who];
  if (floor.point_of_order) parts.push(" · ", el("strong", { class: "tag point-of-order" }, t("point_of_order")));
  const paused = pausedText(floor, t);
  if (paused) parts.push(" · ", el("span", { class: "countdown paused", role: "timer" }, paused));
  if (left !== null) {
    parts.push(" · ", el("span", { class: "countdown", role: "timer" }, left > 0 ? t("time_left", { time: clock(left) }) : t("time_over")));
  }
  node.replaceChildren(...parts);
}

function keepFocus(render) {
  const active = document.activeElement;
  const key = active && active.dataset ? active.dataset.key : null;
  render();
  if (key) root.querySelector(`[data-key="${key}"]`)?.focus();
}

function renderQueue() {
  const list = $("queue");
  $("policy").textContent = T.policies[state.queue_policy] ?? state.queue_policy;
  const empty = $("queue-empty");
  keepFocus(() => {
    list.replaceChildren(...state.queue.map((entry, index) => {
      const item = el("li", { "data-user": String(entry.user_id), class: entry.point_of_order ? "point-of-order" : null },
        el("span", { class: "q-name" }, bdi(entry.name), " ",
          el("span", { class: "muted" }, (T.families[entry.family] ?? entry.family) + (entry.seat === "remote" ? ` · ${T.seats.remote}` : "")),
          ...queueTags(entry, el, t, T)));
      if (data.is_chair) {
        const actions = el("span", { class: "q-actions" });
        const button = (label, action, disabled = false) => el("button", {
          type: "button", class: "small", "data-live": true, "data-queue": action, "data-user": String(entry.user_id),
          "data-key": `${action}-${entry.user_id}`, disabled: disabled || !live, "aria-label": `${label}: ${entry.name}`,
        }, label);
        actions.append(button(t("give"), "give"));
        // `move` reorders arrivals; under rotation the policy, not arrival, sets the order
        // shown, so moving is offered first come, first served only.
        if (state.queue_policy === "fifo") {
          actions.append(button(t("up"), "up", index === 0), button(t("down"), "down", index === state.queue.length - 1));
        }
        actions.append(button(t("lower_other"), "lower"));
        item.append(actions);
      }
      return item;
    }));
  });
  if (state.queue.length) {
    empty?.remove();
  } else if (!empty) {
    list.after(el("p", { class: "muted", id: "queue-empty" }, t("queue_empty")));
  }
}

function renderPresence() {
  if (!presence.known) return;
  const users = [...presence.users.values()];
  $("people-count").textContent = `(${users.length})`;
  const queued = new Set(state.queue.map((entry) => entry.user_id));
  const parts = [];
  for (const [family, name] of Object.entries(T.families)) {
    const people = users.filter((user) => user.family === family);
    if (!people.length) continue;
    parts.push(el("h3", {}, name, " ", el("span", { class: "muted" }, `(${people.length})`)));
    parts.push(el("ul", { class: "people" }, ...people.map((user) => {
      const country = (regionNames && /^[A-Z]{2}$/.test(user.country) ? regionNames.of(user.country) : null) ?? user.country;
      const tags = el("span", { class: "tags" }, el("span", { class: `tag seat-${user.seat}` }, T.seats[user.seat] ?? user.seat));
      if (queued.has(user.user_id)) tags.append(el("span", { class: "tag hand" }, t("hand")));
      if (state.floor && state.floor.user_id === user.user_id) tags.append(el("span", { class: "tag on-floor" }, t("floor")));
      return el("li", {}, el("bdi", { class: "p-name" }, user.name), " ",
        el("span", { class: "muted" }, "· ", bdi(user.organization), ` · ${country}`), " ", tags);
    })));
  }
  $("presence-list").replaceChildren(...parts);
  const seats = Object.entries(state.observer_seats ?? {}).map(([family, total]) => {
    const taken = users.filter((user) => user.observer && user.family === family).length;
    return el("li", {}, t("observer_seats", { family: T.families[family] ?? family, taken, total, free: Math.max(0, total - taken) }));
  });
  $("observer-seats").replaceChildren(...seats);
  fillSpeakers($("voice-who"), users, t);
  $("spectators").textContent = tn("spectators", presence.spectators);
}

function renderControls() {
  const hand = $("hand");
  const seated = seat === "participant" || seat === "remote";
  if (hand) {
    const raised = me && state.queue.some((entry) => entry.user_id === me.id);
    $("hand-row").hidden = !seated;
    hand.textContent = raised ? t("lower") : t("raise");
    hand.dataset.raised = raised ? "1" : "";
    // Whoever holds the floor speaks now rather than wait in the queue.
    const holding = me && state.floor && state.floor.user_id === me.id;
    hand.disabled = !live || !state.session || (holding && !raised);
    $("hand-note").disabled = hand.disabled || raised;
    $("point-of-order").disabled = !live || !state.session || raised;
  }
  const speak = $("speak");
  if (speak) {
    speak.hidden = !seated;
    speak.querySelector("button[type=submit]").disabled = !live;
    updateCounter();
  }
  const chair = $("chair");
  if (chair) {
    chair.hidden = false;
    for (const button of chair.querySelectorAll("button")) button.disabled = !live;
    const floorHeld = Boolean(state.floor);
    chair.querySelector('[data-chair="take"]').disabled = !live || !floorHeld;
    for (const button of chair.querySelectorAll('[data-chair="extend"]')) button.disabled = !live || !floorHeld || !state.floor.ends_at;
    chair.querySelector('[data-chair="next"]').disabled = !live || !state.queue.length || !state.session;
    chair.querySelector('[data-chair="lower_all"]').disabled = !live || !state.queue.length;
    chair.querySelector('[data-chair="pause"]').disabled = !live || !floorHeld || Boolean(state.floor.paused_at);
    chair.querySelector('[data-chair="resume"]').disabled = !live || !floorHeld || !state.floor.paused_at;
    chair.querySelector("#voice-form button").disabled = !live || !state.session;
    const choice = $("policy-choice");
    if (document.activeElement !== choice) choice.value = state.queue_policy;
    renderSessionControls();
  }
}

function renderConference() {
  showConference($("conference"), { room: data.room, seat, session: state.session, t });
}

function renderSessionControls() {
  const box = $("session-controls");
  keepFocus(() => {
    if (state.session) {
      box.replaceChildren(el("button", { type: "button", "data-session": "close", "data-id": String(state.session.id), "data-key": "close-session", disabled: !live }, t("close_session")));
    } else {
      box.replaceChildren(...data.upcoming.map((item) => el("button", {
        type: "button", "data-session": "open", "data-id": String(item.id), "data-key": `open-${item.id}`, disabled: !live,
      }, t("open_session", { title: item.title }))));
    }
  });
}

function maxChars() {
  const session = state.session;
  const mine = me && state.floor && state.floor.user_id === me.id;
  if (session && session.format === "open_debate" && !mine && !data.is_chair) return data.limits.short;
  return data.limits.long;
}

function updateCounter() {
  const box = $("speak-body");
  const counter = $("speak-count");
  if (!box || !counter) return;
  const max = maxChars();
  const count = [...box.value].length;
  counter.textContent = t("counter", { count, max });
  counter.classList.toggle("over", count > max);
}

// -- what the reader does --------------------------------------------------------------

function speak() {
  const box = $("speak-body");
  const body = box.value.trim();
  if (!body) return;
  if ([...body].length > maxChars()) {
    showError("speak-error", t("too_long", { max: maxChars() }));
    return;
  }
  const ref = send({ type: "speak", body }, "speak-error");
  if (!ref) return;
  hideError("speak-error");
  const node = el("li", { class: "said pending" },
    el("p", { class: "who" }, el("strong", {}, bdi(me.name)), " ", el("span", { class: "state muted" }, t("pending"))),
    el("p", { class: "body", dir: "auto" }, body));
  pending.set(ref, { body, node, seq: null, confirmed: false });
  follow(() => $("stream").append(node));
  box.value = "";
  updateCounter();
}

function wire() {
  $("speak")?.addEventListener("submit", (event) => {
    event.preventDefault();
    speak();
  });
  $("speak-body")?.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      speak();
    }
  });
  $("speak-body")?.addEventListener("input", updateCounter);
  $("hand")?.addEventListener("click", () => {
    hideError("hand-error");
    const note = $("hand-note").value;
    send($("hand").dataset.raised ? { type: "lower_hand" } : { type: "raise_hand", ...(note ? { note } : {}) }, "hand-error");
  });
  $("point-of-order")?.addEventListener("click", () => {
    hideError("hand-error");
    send({ type: "raise_hand", point_of_order: true }, "hand-error");
  });
  $("seat-form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new FormData(event.target).get("seat");
    hideError("seat-error");
    if (chosen && live) join(chosen);
  });
  $("jump-button").addEventListener("click", () => {
    const box = $("stream-box");
    box.scrollTop = box.scrollHeight;
    $("jump").hidden = true;
  });
  $("stream-box").addEventListener("scroll", () => {
    const box = $("stream-box");
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 48) $("jump").hidden = true;
  });
  const chair = $("chair");
  if (!chair) return;
  wireVoiceForm($("voice-form"), send, hideError);
  chair.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button || button.type === "submit") return;
    hideError("chair-error");
    const limit = $("limit").value;
    const act = button.dataset.chair;
    if (act === "next") send({ type: "give_floor", ...(limit ? { limit_s: Number(limit) } : {}) });
    if (act === "take") send({ type: "take_floor" });
    if (act === "extend") send({ type: "extend_floor", seconds: Number(button.dataset.seconds) });
    if (act === "lower_all") send({ type: "lower_all_hands" });
    if (act === "pause") send({ type: "pause_floor" });
    if (act === "resume") send({ type: "resume_floor" });
    if (button.dataset.session) {
      send({ type: `${button.dataset.session}_session`, session_id: Number(button.dataset.id) });
    }
  });
  $("queue").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-queue]");
    if (!button) return;
    hideError("chair-error");
    const userId = Number(button.dataset.user);
    const position = state.queue.findIndex((entry) => entry.user_id === userId);
    const limit = $("limit").value;
    const act = button.dataset.queue;
    if (act === "give") send({ type: "give_floor", user_id: userId, ...(limit ? { limit_s: Number(limit) } : {}) });
    if (act === "up") send({ type: "move", user_id: userId, position: position - 1 });
    if (act === "down") send({ type: "move", user_id: userId, position: position + 1 });
    if (act === "lower") send({ type: "lower_hand", user_id: userId });
  });
  $("policy-form").addEventListener("submit", (event) => {
    event.preventDefault();
    hideError("chair-error");
    send({ type: "set_policy", policy: $("policy-choice").value });
  });
}

for (const node of document.querySelectorAll("time[data-local]")) localTime(node);
$("stream-box").scrollTop = $("stream-box").scrollHeight;
wire();
renderAll();
setInterval(() => {
  if (state.floor && state.floor.ends_at) renderFloor();
  if (state.floor && !state.floor.paused_at) renderBudgets($("budgets-box"), $("budgets"), state, Date.now() + clockOffset, el, T);
}, 1000);
if (!signedOut) connect();

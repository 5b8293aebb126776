// Voice alongside text, for the room page (room.js): the conference link of the open
// session, shown once the reader holds a seat, and the chair's form that records a
// turn spoken by voice (docs/protocol.md, `voice_turn`).
//
// The link is never in the page nor in the room's events (every spectator gets
// those): a seated reader asks the server for it, and only a link, nothing loaded
// from the conference, is put on the page.

const SEATED = new Set(["participant", "remote", "observer"]);

function clear(box) {
  box.hidden = true;
  box.replaceChildren();
}

let asked = 0;

// Show the open session's conference link to a seated reader; hide it otherwise.
export async function showConference(box, { room, seat, session, t }) {
  if (!box) return;
  asked += 1;
  const mine = asked;
  if (!session || !SEATED.has(seat)) {
    clear(box);
    return;
  }
  let found = null;
  try {
    const answer = await fetch(`/api/rooms/${encodeURIComponent(room)}/conference`, {
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    found = answer.ok ? await answer.json() : null;
  } catch {
    found = null;
  }
  // A later call (a seat changed, a session opened or closed) has the last word.
  if (mine !== asked) return;
  if (!found || !found.conference_url || found.session_id !== session.id) {
    clear(box);
    return;
  }
  const link = document.createElement("a");
  link.href = found.conference_url;
  link.rel = "noopener noreferrer";
  link.target = "_blank";
  link.dir = "ltr";
  link.textContent = found.conference_url;
  const label = document.createElement("strong");
  label.textContent = t("conference");
  const hint = document.createElement("span");
  hint.className = "muted";
  hint.textContent = t("conference_new_tab");
  const line = document.createElement("p");
  line.append(label, " ", link, " ", hint);
  box.replaceChildren(line);
  box.hidden = false;
}

// What the stream says of a voice turn.
export function voiceText(event, t) {
  return event.duration_s
    ? t("voice_turn_for", { name: event.name, seconds: event.duration_s })
    : t("voice_turn", { name: event.name });
}

// The chair's choice of speaker: the people seated on a seat that speaks.
export function fillSpeakers(select, users, t) {
  if (!select) return;
  const kept = select.value;
  const speakers = users.filter((user) => user.seat === "participant" || user.seat === "remote")
    .sort((a, b) => a.name.localeCompare(b.name));
  const options = speakers.map((user) => {
    const option = document.createElement("option");
    option.value = String(user.user_id);
    option.textContent = user.name;
    return option;
  });
  if (!options.length) {
    const none = document.createElement("option");
    none.value = "";
    none.textContent = t("voice_nobody");
    options.push(none);
  }
  select.replaceChildren(...options);
  if (speakers.some((user) => String(user.user_id) === kept)) select.value = kept;
}

// Send `voice_turn` from the chair's form; `send` is the page's frame sender.
export function wireVoiceForm(form, send, hideError) {
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    hideError("chair-error");
    const who = Number(form.querySelector("#voice-who").value);
    if (!who) return;
    const duration = form.querySelector("#voice-duration").value;
    send({ type: "voice_turn", user_id: who, ...(duration ? { duration_s: Number(duration) } : {}) });
  });
}

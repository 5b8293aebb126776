// The floor's time and equity, for the room page (room.js): points of order and notes
// in the queue, the speaker's clock paused, each family's speaking time left counting
// down while one of its members speaks, and the chair's live equity figures
// (docs/protocol.md: `raise_hand`, `pause_floor`, `resume_floor`, `get_equity`).
//
// Every figure comes from the server: the time left is the server's `budgets` less the
// running turn's time, the equity tables are the `equity` frame's figures as sent.

function clock(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

// Seconds the turn on the floor has been spoken, pauses left out, at `nowMs`.
export function spokenSeconds(floor, nowMs) {
  if (!floor) return 0;
  const until = floor.paused_at ? Date.parse(floor.paused_at) : nowMs;
  let spoken = (until - Date.parse(floor.started_at)) / 1000 - (floor.paused_s || 0);
  if (floor.limit_s !== null && floor.limit_s !== undefined) spoken = Math.min(spoken, floor.limit_s + (floor.extended_s || 0));
  return Math.max(0, spoken);
}

// The tags a queue entry carries: point of order, note, out of time.
export function queueTags(entry, el, t, T) {
  const tags = [];
  if (entry.point_of_order) tags.push(" ", el("strong", { class: "tag point-of-order" }, t("point_of_order")));
  if (entry.note) tags.push(" ", el("span", { class: `tag note-${entry.note}` }, T.notes[entry.note] ?? entry.note));
  if (entry.out_of_time) tags.push(" ", el("span", { class: "tag out-of-time" }, t("out_of_time")));
  return tags;
}

// What the floor line says about the clock: paused with the time kept, or nothing.
export function pausedText(floor, t) {
  if (!floor || !floor.paused_at) return null;
  return floor.left_s === null || floor.left_s === undefined ? t("paused") : t("paused_left", { time: clock(floor.left_s) });
}

// Each budgeted family's time left, the running turn's time taken off its family's.
export function renderBudgets(box, list, state, nowMs, el, T) {
  if (!box || !list) return;
  const budgets = state.budgets ?? {};
  const families = Object.keys(budgets);
  box.hidden = families.length === 0;
  const floor = state.floor;
  list.replaceChildren(...families.map((family) => {
    const budget = budgets[family];
    let left = budget.left_s;
    if (floor && floor.family === family && !floor.point_of_order) left = Math.max(0, budget.budget_s - budget.used_s - spokenSeconds(floor, nowMs));
    const whole = Math.max(0, Math.round(left));
    return el("li", { "data-family": family, class: whole === 0 ? "spent" : null },
      `${T.families[family] ?? family}: `, el("span", { class: "left", "data-left": String(whole) }, clock(whole)),
      " ", el("span", { class: "muted" }, `/ ${clock(budget.budget_s)}`));
  }));
}

// The chair's live equity tables from an `equity` frame.
export function renderEquity(box, figures, el, t, T) {
  if (!box || !figures) return;
  const parts = [
    ["by_family", t("equity_by_family"), t("equity_family"), T.families],
    ["by_side", t("equity_by_side"), t("equity_region"), T.sides],
  ];
  box.replaceChildren(...parts.map(([part, caption, heading, names]) => {
    const head = el("tr", {}, ...[heading, t("equity_turns"), t("equity_points"), t("equity_time"), t("equity_interventions")]
      .map((text) => el("th", { scope: "col" }, text)));
    const rows = Object.entries(figures[part]).map(([key, row]) => el("tr", { "data-key": key },
      el("th", { scope: "row" }, names[key] ?? key),
      el("td", { "data-figure": "turns" }, String(row.turns)),
      el("td", { "data-figure": "points_of_order" }, String(row.points_of_order)),
      el("td", { "data-figure": "speaking_s", "data-seconds": String(row.speaking_s) }, clock(row.speaking_s)),
      el("td", { "data-figure": "interventions" }, String(row.interventions))));
    const id = `live-${part}`;
    return el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": id },
      el("table", { class: "equity", "data-part": part }, el("caption", { id }, caption), el("thead", {}, head), el("tbody", {}, ...rows)));
  }));
}

// Events after which the chair's figures change.
export function changesEquity(event) {
  return event.type === "intervention" || event.type === "floor" || (event.type === "session" && event.op === "open");
}

// Every page: dates in the reader's own time zone, and the time zone sent with the
// language switcher so that a signed-in person's profile keeps it.
//
// Without this module the server's text stands: its dates are in the profile's time
// zone, or in UTC when it does not know one.

import { formatDateTime, formatTime } from "./i18n.js";

const root = document.documentElement;
const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

if (!root.dataset.timeZone) {
  // Instants only (`data-local`: "datetime", or "time" for a time of day today); a
  // date keeps the server's words.
  for (const node of document.querySelectorAll("time[datetime][data-local]")) {
    const iso = node.getAttribute("datetime");
    node.textContent = node.dataset.local === "time" ? formatTime(iso) : formatDateTime(iso);
  }
}

const zoneField = document.querySelector("form.language input[name=time_zone]");
if (zoneField && !zoneField.value && browserZone) zoneField.value = browserZone;

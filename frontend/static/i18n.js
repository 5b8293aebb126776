// The interface text of page scripts, in the reader's language.
//
// The server renders the catalog into the page (`<script type="application/json"
// id="forum-i18n">`: no inline script under our CSP) with each msgid of the scripts
// translated; a plural message as one form per CLDR plural category, picked here with
// Intl.PluralRules. Placeholders are `{name}`. scripts/catalogs extracts `_()` and
// `ngettext()` calls from these files into the catalogs.

const data = (() => {
  const node = document.getElementById("forum-i18n");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
})();
const messages = data.messages || {};
export const language = data.language || document.documentElement.lang || "en";
const plurals = new Intl.PluralRules(language);

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function _(msgid, values = {}) {
  const found = messages[msgid];
  return fill(typeof found === "string" && found ? found : msgid, values);
}

export function ngettext(singular, plural, n, values = {}) {
  const forms = messages[singular];
  const all = { n, ...values };
  if (forms && typeof forms === "object") {
    const text = forms[plurals.select(n)] || forms.other;
    if (text) return fill(text, all);
  }
  return fill(n === 1 ? singular : plural, all);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(language).format(n);
}

// Dates as the server formats them (medium date, short time), in the reader's time
// zone when the server knows it, else the browser's own.
function format(iso, options) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  const zone = document.documentElement.dataset.timeZone;
  return new Intl.DateTimeFormat(language, { ...options, ...(zone ? { timeZone: zone } : {}) }).format(when);
}

export function formatDateTime(iso) {
  return format(iso, { dateStyle: "medium", timeStyle: "short" });
}

export function formatTime(iso) {
  return format(iso, { timeStyle: "short" });
}

// Live updates for a private conversation's page, through server-sent events.
//
// The page is complete without this module. The stream starts after the conversation's
// change the page was rendered at (`data-after`); on reconnection the browser sends the
// last event id it received and the server replays what was missed. A message is
// inserted as the server renders it for this page (`.../messages/{seq}/article`); the
// stream and the articles answer the conversation's two people only.

import { _, formatDateTime } from "./i18n.js";

function announce(region, message) {
  if (region) region.textContent = message;
}

async function serverArticle(base, seq) {
  const response = await fetch(`${base}/${seq}/article`, { credentials: "same-origin" });
  if (!response.ok) return null;
  const template = document.createElement("template");
  template.innerHTML = await response.text(); // the server's templates, autoescaped
  const article = template.content.querySelector("article.message");
  if (article && !document.documentElement.dataset.timeZone) {
    for (const node of article.querySelectorAll("time[datetime][data-local]")) {
      node.textContent = formatDateTime(node.getAttribute("datetime"));
    }
  }
  return article;
}

function follow(section) {
  const status = section.querySelector(".live");
  const url = `${section.dataset.contactEvents}?after=${encodeURIComponent(section.dataset.after)}`;
  const source = new EventSource(url);
  // Told on the section, so that a reader (and a test) knows the stream is open.
  source.addEventListener("open", () => { section.dataset.live = "open"; });
  source.addEventListener("error", () => { section.dataset.live = "closed"; });
  let queue = Promise.resolve();
  source.addEventListener("message", (event) => {
    const message = JSON.parse(event.data).message;
    queue = queue.then(async () => {
      if (document.getElementById(`message-${message.seq}`)) return;
      const article = await serverArticle(section.dataset.articles, message.seq).catch(() => null);
      if (!article) {
        announce(status, _("A message arrived; reload the page to see it."));
        return;
      }
      section.querySelector(".empty")?.remove();
      article.classList.add("live-new");
      const later = [...section.querySelectorAll("article.message")].find((a) => Number(a.dataset.seq) > message.seq);
      if (later) later.before(article);
      else section.append(article);
      announce(status, _("New message from {name}.", { name: message.author.display_name }));
    });
  });
  source.addEventListener("request", (event) => {
    const request = JSON.parse(event.data).request;
    if (request.status === "accepted") announce(status, _("The request is accepted; reload the page to write."));
    if (request.status === "declined") announce(status, _("The request is declined."));
  });
  source.addEventListener("reset", () => {
    source.close();
    announce(status, _("Many messages arrived; reload the page to see them."));
  });
}

const section = document.querySelector("[data-contact-events]");
if (section) follow(section);

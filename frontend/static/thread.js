// Live updates for an open thread or board page, through server-sent events.
//
// The page is complete without this module; it only adds what arrives after the page
// was rendered. The stream starts after the board `seq` the page was rendered at
// (`data-after`); on reconnection the browser sends the last event id it received and
// the server replays what was missed. A post is inserted as the server renders it for
// this reader (`/posts/{id}/article`); a board's rows are built here, every text set
// with textContent and every interface word from the page's catalog (i18n.js).

import { _, formatDateTime, ngettext } from "./i18n.js";

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== null) node.textContent = text;
  return node;
}

function announce(region, message) {
  if (region) region.textContent = message;
}

function stamp(iso) {
  const node = el("time", { datetime: iso, "data-local": "datetime" }, formatDateTime(iso));
  return node;
}

// A translated sentence with one link in it: the text around `{link}` as text nodes.
function withLink(parent, sentence, link) {
  const [before, after = ""] = sentence.split("{link}");
  if (before) parent.append(before);
  parent.append(link);
  if (after) parent.append(after);
  return parent;
}

// A post as this reader's page would have rendered it, asked of the server: one source
// of markup, so a live post carries what the page would have shown this reader (no
// Reply signed out; the co-sign and withdraw forms for a group's chair or coordinator).
async function serverArticle(post) {
  const response = await fetch(`/posts/${post.id}/article`, { credentials: "same-origin" });
  if (!response.ok) return null;
  const template = document.createElement("template");
  template.innerHTML = await response.text(); // the server's templates, autoescaped
  const article = template.content.querySelector("article.post");
  // As locale.js does for the page: instants in the browser's zone, unless the
  // profile names one (the server's text is then in it already).
  if (article && !document.documentElement.dataset.timeZone) {
    for (const node of article.querySelectorAll("time[datetime][data-local]")) {
      node.textContent = formatDateTime(node.getAttribute("datetime"));
    }
  }
  return article;
}

// true: inserted; false: replaced in place; null: on another page of the thread;
// undefined: the server could not give it.
async function placePost(container, post) {
  const existing = document.getElementById(`post-${post.id}`);
  if (!existing && container.dataset.lastPage !== "1") return null;
  const fresh = await serverArticle(post);
  if (!fresh) return undefined;
  const current = document.getElementById(`post-${post.id}`);
  if (current) {
    current.replaceWith(fresh);
    return false;
  }
  fresh.classList.add("live-new");
  const after = [...container.querySelectorAll("article.post")].find((a) => a.dataset.path > post.path);
  if (after) after.before(fresh);
  else container.append(fresh);
  return true;
}

function followThread(container) {
  const status = container.querySelector(".live");
  const url = `${container.dataset.threadEvents}?after=${encodeURIComponent(container.dataset.after)}`;
  const source = new EventSource(url);
  let unseen = 0;
  // One post at a time, in the order of the stream, though each waits for the server.
  let queue = Promise.resolve();
  source.addEventListener("post", (event) => {
    const message = JSON.parse(event.data);
    queue = queue.then(async () => {
      const placed = await placePost(container, message.post).catch(() => undefined);
      if (placed === true) announce(status, _("New post by {name}.", { name: message.post.author.display_name }));
      if (placed === undefined) announce(status, _("A post changed; reload the page to see it."));
      if (placed === null) {
        unseen += 1;
        announce(status, ngettext("{n} new post later in this thread.", "{n} new posts later in this thread.", unseen));
      }
    });
  });
  source.addEventListener("thread", (event) => {
    const thread = JSON.parse(event.data).thread;
    const state = document.querySelector(".lock-state");
    if (state) state.textContent = thread.locked ? "· " + _("locked: no new posts") : "";
  });
  source.addEventListener("reset", () => {
    source.close();
    announce(status, _("Many posts arrived; reload the page to see them."));
  });
}

function followBoard(section) {
  const status = section.querySelector(".live");
  const url = `${section.dataset.boardEvents}?after=${encodeURIComponent(section.dataset.after)}`;
  const source = new EventSource(url);
  source.addEventListener("thread", (event) => {
    const thread = JSON.parse(event.data).thread;
    if (section.dataset.firstPage !== "1") {
      announce(status, _("New activity: go to the first page to see it."));
      return;
    }
    let list = section.querySelector("ol.threads");
    if (!list) {
      list = el("ol", { class: "threads" });
      section.querySelector(".empty")?.replaceWith(list);
    }
    document.getElementById(`thread-${thread.id}`)?.remove();
    const row = el("li", { class: "thread-row", id: `thread-${thread.id}`, "data-thread-id": String(thread.id) });
    row.append(el("a", { class: "title", href: `/threads/${thread.id}`, dir: "auto" }, thread.title));
    if (thread.locked) row.append(" ", el("span", { class: "badge" }, _("locked")));
    const meta = withLink(el("span", { class: "muted" }), _("by {link}"), el("bdi", {}, thread.author.display_name));
    meta.append(" · ");
    meta.append(el("span", { class: "replies" }, ngettext("{n} reply", "{n} replies", thread.reply_count)));
    meta.append(" · ");
    withLink(meta, _("last post {link}"), stamp(thread.last_post_at));
    row.append(meta);
    list.prepend(row);
    announce(status, _("Activity in “{title}”.", { title: thread.title }));
  });
  source.addEventListener("reset", () => source.close());
}

const thread = document.querySelector("[data-thread-events]");
if (thread) followThread(thread);
const board = document.querySelector("[data-board-events]");
if (board) followBoard(board);

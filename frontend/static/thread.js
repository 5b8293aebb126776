// Live updates for an open thread or board page, through server-sent events.
//
// The page is complete without this module; it only adds what arrives after the page
// was rendered. The stream starts after the board `seq` the page was rendered at
// (`data-after`); on reconnection the browser sends the last event id it received and
// the server replays what was missed. Post HTML comes from the server's Markdown
// renderer (already safe); every other text is set with textContent, and every
// interface word comes from the page's catalog (i18n.js).

import { _, formatDateTime, ngettext } from "./i18n.js";

const FAMILIES = {
  government: _("Government"),
  civil_society: _("Civil society"),
  private_sector: _("Private sector"),
  international_org: _("International organization"),
};

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

function renderPost(post) {
  const article = el("article", {
    class: `post depth-${post.depth}${post.kind === "position" ? " position" : ""}${post.deleted ? " deleted" : ""} live-new`,
    id: `post-${post.id}`,
    "data-post-id": String(post.id),
    "data-path": post.path,
  });
  const header = el("header");
  if (post.group) {
    const link = el("a", { href: `/groups/${encodeURIComponent(post.group.slug)}` }, post.group.name);
    header.append(withLink(el("p", { class: "badge" }), _("Position of {link}"), link));
  }
  const author = el("span", { class: "author" });
  author.append(el("bdi", {}, post.author.display_name));
  header.append(author);
  const who = el("span", { class: "muted" }, "· ");
  who.append(el("bdi", {}, post.author.organization));
  who.append(` · ${FAMILIES[post.author.family] || post.author.family}`);
  header.append(who);
  header.append(el("a", { class: "permalink", href: `/posts/${post.id}` }, `#${post.number}`));
  header.append(stamp(post.created_at));
  if (post.parent_number > 1) {
    const link = el("a", { href: `#post-${post.parent_id}` }, `#${post.parent_number}`);
    header.append(withLink(el("span", { class: "muted" }), _("in reply to {link}"), link));
  }
  if (post.revision_count > 1) {
    const edits = post.revision_count - 1;
    const label = ngettext("edited ({n} time)", "edited ({n} times)", edits);
    header.append(el("a", { class: "muted", href: `/posts/${post.id}/revisions` }, label));
  }
  article.append(header);
  if (post.deleted) {
    article.append(el("p", { class: "tombstone" }, _("This post was deleted.")));
  } else {
    const body = el("div", { class: "body", dir: "auto" });
    body.innerHTML = post.html; // rendered and sanitized by the server at write time
    article.append(body);
  }
  if (post.cosigners.length) {
    const line = el("p", { class: "cosigners" }, _("Co-signed by") + " ");
    post.cosigners.forEach((c, i) => {
      if (i) line.append(", ");
      line.append(el("a", { href: `/groups/${encodeURIComponent(c.group.slug)}` }, c.group.name));
    });
    line.append(".");
    article.append(line);
  }
  if (!post.deleted) {
    const actions = el("footer", { class: "actions" });
    actions.append(el("a", { href: `/threads/${post.thread_id}?reply_to=${post.id}#reply` }, _("Reply")));
    article.append(actions);
  }
  return article;
}

function placePost(container, post) {
  const existing = document.getElementById(`post-${post.id}`);
  const fresh = renderPost(post);
  if (existing) {
    // Keep the server-rendered actions (edit, delete, co-sign forms) of a known post.
    const actions = existing.querySelector("footer.actions");
    const newActions = fresh.querySelector("footer.actions");
    if (actions && newActions && !post.deleted) newActions.replaceWith(actions);
    fresh.classList.remove("live-new");
    existing.replaceWith(fresh);
    return false;
  }
  if (container.dataset.lastPage !== "1") return null; // not on this page of the thread
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
  source.addEventListener("post", (event) => {
    const message = JSON.parse(event.data);
    const placed = placePost(container, message.post);
    if (placed === true) announce(status, _("New post by {name}.", { name: message.post.author.display_name }));
    if (placed === null) {
      unseen += 1;
      announce(status, ngettext("{n} new post later in this thread.", "{n} new posts later in this thread.", unseen));
    }
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

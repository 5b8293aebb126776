// Live updates for an open thread or board page, through server-sent events.
//
// The page is complete without this module; it only adds what arrives after the page
// was rendered. The stream starts after the board `seq` the page was rendered at
// (`data-after`); on reconnection the browser sends the last event id it received and
// the server replays what was missed. Post HTML comes from the server's Markdown
// renderer (already safe); every other text is set with textContent.

const FAMILIES = {
  government: "Government",
  civil_society: "Civil society",
  private_sector: "Private sector",
  international_org: "International organization",
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
  return iso.slice(0, 16).replace("T", " ") + " UTC";
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
    const badge = el("p", { class: "badge" }, "Position of ");
    badge.append(el("a", { href: `/groups/${encodeURIComponent(post.group.slug)}` }, post.group.name));
    header.append(badge);
  }
  const author = el("span", { class: "author" });
  author.append(el("bdi", {}, post.author.display_name));
  header.append(author);
  const who = el("span", { class: "muted" }, "· ");
  who.append(el("bdi", {}, post.author.organization));
  who.append(` · ${FAMILIES[post.author.family] || post.author.family}`);
  header.append(who);
  header.append(el("a", { class: "permalink", href: `/posts/${post.id}` }, `#${post.number}`));
  header.append(el("time", { datetime: post.created_at }, stamp(post.created_at)));
  if (post.parent_number > 1) {
    const reply = el("span", { class: "muted" }, "in reply to ");
    reply.append(el("a", { href: `#post-${post.parent_id}` }, `#${post.parent_number}`));
    header.append(reply);
  }
  if (post.revision_count > 1) {
    header.append(el("a", { class: "muted", href: `/posts/${post.id}/revisions` }, `edited (${post.revision_count - 1})`));
  }
  article.append(header);
  if (post.deleted) {
    article.append(el("p", { class: "tombstone" }, "This post was deleted."));
  } else {
    const body = el("div", { class: "body" });
    body.innerHTML = post.html; // rendered and sanitized by the server at write time
    article.append(body);
  }
  if (post.cosigners.length) {
    const line = el("p", { class: "cosigners" }, "Co-signed by ");
    post.cosigners.forEach((c, i) => {
      if (i) line.append(", ");
      line.append(el("a", { href: `/groups/${encodeURIComponent(c.group.slug)}` }, c.group.name));
    });
    line.append(".");
    article.append(line);
  }
  if (!post.deleted) {
    const actions = el("footer", { class: "actions" });
    actions.append(el("a", { href: `/threads/${post.thread_id}?reply_to=${post.id}#reply` }, "Reply"));
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
    if (placed === true) announce(status, `New post by ${message.post.author.display_name}.`);
    if (placed === null) {
      unseen += 1;
      announce(status, `${unseen} new post${unseen === 1 ? "" : "s"} later in this thread.`);
    }
  });
  source.addEventListener("thread", (event) => {
    const thread = JSON.parse(event.data).thread;
    const state = document.querySelector(".lock-state");
    if (state) state.textContent = thread.locked ? "· locked: no new posts" : "";
  });
  source.addEventListener("reset", () => {
    source.close();
    announce(status, "Many posts arrived; reload the page to see them.");
  });
}

function followBoard(section) {
  const status = section.querySelector(".live");
  const url = `${section.dataset.boardEvents}?after=${encodeURIComponent(section.dataset.after)}`;
  const source = new EventSource(url);
  source.addEventListener("thread", (event) => {
    const thread = JSON.parse(event.data).thread;
    if (section.dataset.firstPage !== "1") {
      announce(status, "New activity: go to the first page to see it.");
      return;
    }
    let list = section.querySelector("ol.threads");
    if (!list) {
      list = el("ol", { class: "threads" });
      section.querySelector(".empty")?.replaceWith(list);
    }
    document.getElementById(`thread-${thread.id}`)?.remove();
    const row = el("li", { class: "thread-row", id: `thread-${thread.id}`, "data-thread-id": String(thread.id) });
    row.append(el("a", { class: "title", href: `/threads/${thread.id}` }, thread.title));
    if (thread.locked) row.append(" ", el("span", { class: "badge" }, "locked"));
    const meta = el("span", { class: "muted" }, "by ");
    meta.append(el("bdi", {}, thread.author.display_name));
    meta.append(` · ${thread.reply_count} ${thread.reply_count === 1 ? "reply" : "replies"} · last post ${stamp(thread.last_post_at)}`);
    row.append(meta);
    list.prepend(row);
    announce(status, `Activity in “${thread.title}”.`);
  });
  source.addEventListener("reset", () => source.close());
}

const thread = document.querySelector("[data-thread-events]");
if (thread) followThread(thread);
const board = document.querySelector("[data-board-events]");
if (board) followBoard(board);

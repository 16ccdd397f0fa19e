/// <reference types="mocha" />
import { expect, fixture, html, oneEvent, waitUntil } from "@open-wc/testing";
import { sendKeys } from "@web/test-runner-commands";
import { ChatImageFilesEvent, ChatSendEvent, imageFilesFrom, type Chat, type ChatEntry } from "./mm-chat.js";
import "./mm-chat.js";

/** A valid 1×1 PNG. */
const PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

/** A PNG signature and an IHDR chunk that claim `width` × `height`: all a header reader sees. */
function pngClaiming(width: number, height: number): string {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA; the CRC after it is left zero
  return `data:image/png;base64,${btoa(String.fromCharCode(...bytes))}`;
}
const AT = Date.UTC(2025, 0, 2, 13, 45);

let nextId = 1;
function entry(from: string, authorName: string, content: ChatEntry["content"], at = AT): ChatEntry {
  return { id: String(nextId++), from, authorName, content, at };
}

function part<T extends Element>(el: Chat, selector: string): T {
  const found = el.shadowRoot?.querySelector<T>(selector);
  if (!found) throw new Error(`no ${selector}`);
  return found;
}

function messages(el: Chat): HTMLElement[] {
  return Array.from(el.shadowRoot?.querySelectorAll<HTMLElement>('[role="log"] .message') ?? []);
}

/** Text as read aloud: whitespace collapsed. */
function spoken(node: Element): string {
  return (node.textContent ?? "").replace(/\s+/g, " ").trim();
}

/** Like oneEvent, but typed through HTMLElementEventMap. */
function nextEvent<K extends keyof HTMLElementEventMap>(target: HTMLElement, type: K): Promise<HTMLElementEventMap[K]> {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

/** A chat showing `entries`, once its images are checked (the checker loads with the first image). */
async function chat(entries: readonly ChatEntry[], popup = false): Promise<Chat> {
  const el = await fixture<Chat>(html`<mm-chat style="height: 320px" .entries=${entries} ?image-view-popup=${popup}></mm-chat>`);
  await waitUntil(() => !el.shadowRoot?.textContent?.includes("checking the image"), "the images were never checked");
  await el.updateComplete;
  return el;
}

describe("<mm-chat>", () => {
  it("renders entries in a log, one line each: author, text and time; own lines say You", async () => {
    const el = await chat([entry("p1", "alice", { text: "hi all" }), entry("self", "me", { text: "hello" })]);
    const log = part(el, '[role="log"]');
    expect(part(el, "section").getAttribute("aria-labelledby")).to.equal("chat-title");
    expect(spoken(part(el, "#chat-title"))).to.equal("Chat");
    const [theirs, mine] = messages(el);
    expect(log.contains(theirs ?? null)).to.equal(true);
    expect(spoken(theirs!)).to.match(/^alice: hi all \d\d.\d\d/);
    expect(spoken(mine!)).to.match(/^You: hello /);
    expect(mine!.classList.contains("self")).to.equal(true);
    expect(theirs!.classList.contains("self")).to.equal(false);
    expect(theirs!.querySelector("time")?.getAttribute("datetime")).to.equal(new Date(AT).toISOString());
  });

  it("renders join/leave lines (from: system) without an author prefix", async () => {
    const el = await chat([entry("system", "meshmeet", { text: "bob joined." })]);
    const [line] = messages(el);
    expect(line!.classList.contains("system")).to.equal(true);
    expect(spoken(line!)).to.match(/^bob joined\. /);
  });

  it("shows text containing HTML as text, never as markup", async () => {
    const probe = window as unknown as { chatXss?: boolean };
    const text = "<img src=x onerror=\"window.chatXss=true\"> <b>bold</b> https://example.invalid/";
    const el = await chat([entry("p1", "<i>mallory</i>", { text })]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [line] = messages(el);
    expect(line!.querySelector("img, b, i, a")).to.equal(null);
    expect(line!.querySelector(".text")?.textContent).to.equal(text);
    expect(spoken(line!.querySelector(".author")!)).to.equal("<i>mallory</i>");
    expect(probe.chatXss).to.equal(undefined);
  });

  it("shows no image before it is checked: a notice first, the picture once the checker has loaded", async () => {
    const el = await fixture<Chat>(html`<mm-chat style="height: 320px" .entries=${[entry("p1", "alice", { image: PNG })]}></mm-chat>`);
    expect(el.shadowRoot?.querySelector("img")).to.equal(null);
    expect(el.shadowRoot?.textContent).to.contain("(checking the image…)");
    await waitUntil(() => el.shadowRoot?.querySelector("img") !== null, "the image never appeared");
    expect(el.shadowRoot?.textContent).not.to.contain("checking the image");
  });

  it("shows only inline raster images; any other URL becomes a notice and is never fetched", async () => {
    const el = await chat([
      entry("p1", "alice", { image: PNG }),
      entry("p2", "eve", { image: "https://example.invalid/track.png" }),
      entry("p2", "eve", { image: "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=" }),
    ]);
    const [good, remote, svg] = messages(el);
    const img = good!.querySelector("button img");
    expect(img?.getAttribute("alt")).to.equal("Image from alice");
    expect(img?.getAttribute("src")).to.equal(PNG);
    for (const line of [remote!, svg!]) {
      expect(line.querySelector("img")).to.equal(null);
      expect(spoken(line)).to.contain("(image not shown: not an inline image)");
    }
  });

  it("refuses a small PNG that claims 30 000 × 30 000 pixels, with a note, before the tab decodes it", async () => {
    const el = await chat([entry("p2", "eve", { image: pngClaiming(30_000, 30_000) }), entry("p1", "alice", { image: PNG })]);
    const [huge, good] = messages(el);
    expect(huge!.querySelector("img")).to.equal(null);
    expect(spoken(huge!)).to.contain("(image not shown: 30,000 × 30,000 pixels is too large to show)");
    // The page lives on and shows the next picture.
    expect(good!.querySelector("button img")?.getAttribute("src")).to.equal(PNG);
  });

  it("Enter sends the exact text and clears the field; Shift+Enter is a newline", async () => {
    const el = await chat([]);
    const field = part<HTMLTextAreaElement>(el, "#message");
    field.focus();
    await sendKeys({ type: "  two  spaces" });
    await sendKeys({ down: "Shift" });
    await sendKeys({ press: "Enter" });
    await sendKeys({ up: "Shift" });
    await sendKeys({ type: "line <b>" });
    const sent = nextEvent(el, "chat-send");
    await sendKeys({ press: "Enter" });
    const event = await sent;
    expect(event).to.be.instanceOf(ChatSendEvent);
    expect(event.content).to.deep.equal({ text: "  two  spaces\nline <b>" });
    expect(event.bubbles && event.composed).to.equal(true);
    expect(field.value).to.equal("");
  });

  it("the Send button sends too; whitespace-only input sends nothing and stays", async () => {
    const el = await chat([]);
    const sent: ChatSendEvent[] = [];
    el.addEventListener("chat-send", (e) => sent.push(e));
    const field = part<HTMLTextAreaElement>(el, "#message");
    field.focus();
    await sendKeys({ type: "  " });
    await sendKeys({ press: "Enter" });
    part<HTMLButtonElement>(el, "button.send").click();
    expect(sent).to.have.length(0);
    field.value = "via button";
    part<HTMLButtonElement>(el, "button.send").click();
    expect(sent.map((e) => e.content.text)).to.deep.equal(["via button"]);
  });

  it("the attach button opens the image picker, and chosen files go out in one event", async () => {
    const el = await chat([]);
    const picker = part<HTMLInputElement>(el, "#files");
    expect(picker.accept).to.equal("image/*");
    expect(picker.multiple).to.equal(true);
    let pickerOpened = false;
    picker.addEventListener("click", (e) => {
      pickerOpened = true;
      e.preventDefault(); // no real file dialog in the test
    });
    const attach = Array.from(el.shadowRoot!.querySelectorAll("button")).find((b) => b.textContent?.trim() === "Attach image");
    attach!.click();
    expect(pickerOpened).to.equal(true);

    const transfer = new DataTransfer();
    transfer.items.add(new File(["a"], "a.png", { type: "image/png" }));
    transfer.items.add(new File(["b"], "b.webp", { type: "image/webp" }));
    picker.files = transfer.files;
    const chosen = nextEvent(el, "chat-image-files");
    picker.dispatchEvent(new Event("change"));
    const event = await chosen;
    expect(event).to.be.instanceOf(ChatImageFilesEvent);
    expect(event.files.map((f) => f.name)).to.deep.equal(["a.png", "b.webp"]);
    expect(picker.value).to.equal("");
  });

  it("imageFilesFrom keeps only image files from pasted or dropped data", () => {
    const transfer = new DataTransfer();
    transfer.setData("text/plain", "hello");
    transfer.items.add(new File(["x"], "shot.png", { type: "image/png" }));
    transfer.items.add(new File(["y"], "notes.txt", { type: "text/plain" }));
    expect(imageFilesFrom(transfer).map((f) => f.name)).to.deep.equal(["shot.png"]);
    expect(imageFilesFrom(null)).to.deep.equal([]);
  });

  it("with imageViewPopup, an image opens in a dialog; Escape closes it and focus returns", async () => {
    const el = await chat([entry("p1", "alice", { image: PNG })], true);
    const appKeys: string[] = [];
    const onDocumentKey = (e: KeyboardEvent) => appKeys.push(e.key);
    document.addEventListener("keydown", onDocumentKey);
    try {
      const opener = part<HTMLButtonElement>(el, "button.image");
      opener.focus();
      await sendKeys({ press: "Enter" });
      await el.updateComplete;
      const dialog = part<HTMLDialogElement>(el, "dialog");
      expect(dialog.open).to.equal(true);
      expect(dialog.getAttribute("aria-label")).to.equal("Image from alice");
      expect(dialog.querySelector("img")?.getAttribute("src")).to.equal(PNG);
      expect(dialog.contains(el.shadowRoot!.activeElement)).to.equal(true);
      const closed = oneEvent(dialog, "close");
      await sendKeys({ press: "Escape" });
      await closed;
      await el.updateComplete;
      expect(dialog.open).to.equal(false);
      expect(el.shadowRoot!.activeElement).to.equal(opener);
      // Escape belonged to the viewer; the app's panel shortcut must not see it.
      expect(appKeys).to.not.include("Escape");
    } finally {
      document.removeEventListener("keydown", onDocumentKey);
    }
  });

  it("the viewer's Close button closes it and returns focus too", async () => {
    const el = await chat([entry("p1", "alice", { image: PNG })], true);
    const opener = part<HTMLButtonElement>(el, "button.image");
    opener.click();
    await el.updateComplete;
    const dialog = part<HTMLDialogElement>(el, "dialog");
    const closed = oneEvent(dialog, "close");
    part<HTMLButtonElement>(el, "dialog .close").click();
    await closed; // the close event is queued as a task
    await el.updateComplete;
    expect(dialog.open).to.equal(false);
    expect(el.shadowRoot!.activeElement).to.equal(opener);
  });

  it("without imageViewPopup, an image opens in a new tab from a blob: URL of the image type", async () => {
    const el = await chat([entry("p1", "alice", { image: PNG })]);
    const calls: unknown[][] = [];
    const original = window.open;
    window.open = (...args: unknown[]) => {
      calls.push(args);
      return null;
    };
    try {
      part<HTMLButtonElement>(el, "button.image").click();
    } finally {
      window.open = original;
    }
    expect(calls).to.have.length(1);
    const [url, target, features] = calls[0] as [string, string, string];
    expect(url.startsWith("blob:")).to.equal(true);
    expect([target, features]).to.deep.equal(["_blank", "noopener,noreferrer"]);
    const blob = await (await fetch(url)).blob();
    expect(blob.type).to.equal("image/png");
    expect(part<HTMLDialogElement>(el, "dialog").open).to.equal(false);
  });

  it("follows new messages at the end, but offers a New messages button after the user scrolls up", async () => {
    const many = Array.from({ length: 40 }, (_, i) => entry("p1", "alice", { text: `line ${i}` }));
    const el = await chat(many);
    const log = part<HTMLElement>(el, '[role="log"]');
    const atEnd = () => log.scrollHeight - log.scrollTop - log.clientHeight <= 24;
    expect(log.scrollHeight).to.be.greaterThan(log.clientHeight);
    expect(atEnd()).to.equal(true);

    el.entries = [...el.entries, entry("p1", "alice", { text: "newer" })];
    await el.updateComplete;
    expect(atEnd()).to.equal(true);

    log.scrollTop = 0;
    await oneEvent(log, "scroll");
    el.entries = [...el.entries, entry("p1", "alice", { text: "while away" })];
    await el.updateComplete;
    expect(log.scrollTop).to.equal(0);
    const jump = part<HTMLButtonElement>(el, "button.jump");
    expect(spoken(jump)).to.equal("New messages ↓");
    jump.click();
    await el.updateComplete;
    expect(atEnd()).to.equal(true);
    expect(el.shadowRoot!.querySelector("button.jump")).to.equal(null);
    expect(el.shadowRoot!.activeElement).to.equal(log);

    // Our own message always scrolls into view.
    log.scrollTop = 0;
    await oneEvent(log, "scroll");
    el.entries = [...el.entries, entry("self", "me", { text: "mine" })];
    await el.updateComplete;
    expect(atEnd()).to.equal(true);
  });

  it("focusInput focuses the message field", async () => {
    const el = await chat([]);
    el.focusInput();
    expect(el.shadowRoot!.activeElement).to.equal(part(el, "#message"));
  });

  it("is accessible (axe) with text, own, system and image lines", async () => {
    const el = await chat([
      entry("system", "meshmeet", { text: "alice joined." }),
      entry("p1", "alice", { text: "look at this" }),
      entry("p1", "alice", { image: PNG }),
      entry("self", "me", { text: "nice" }),
      entry("p2", "eve", { image: "https://example.invalid/x.png" }),
    ]);
    await expect(el).to.be.accessible();
  });
});

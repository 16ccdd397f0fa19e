/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from "@open-wc/testing";
import "./mm-announcer.js";
import "./mm-controls.js";
import "./mm-help.js";
import "./mm-watches.js";
import type { Announcer } from "./mm-announcer.js";
import type { ControlEvent, ControlPreviewEvent, Controls } from "./mm-controls.js";
import type { HelpDialog } from "./mm-help.js";
import type { Watches, WatchesChangeEvent } from "./mm-watches.js";

function buttons(el: Controls): HTMLButtonElement[] {
  return [...(el.shadowRoot?.querySelectorAll("button") ?? [])];
}

describe("mm-controls", () => {
  it("is a toolbar with one tab stop and arrow-key movement", async () => {
    const el = await fixture<Controls>(html`<mm-controls></mm-controls>`);
    const toolbar = el.shadowRoot?.querySelector('[role="toolbar"]');
    expect(toolbar?.getAttribute("aria-label")).to.equal("Meeting controls");
    expect(buttons(el).filter((b) => b.tabIndex === 0)).to.have.length(1);
    buttons(el)[0]?.focus();
    buttons(el)[0]?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true, composed: true }));
    await el.updateComplete;
    expect(el.shadowRoot?.activeElement?.textContent?.trim()).to.equal("Camera");
    expect(buttons(el).filter((b) => b.tabIndex === 0).map((b) => b.textContent?.trim())).to.deep.equal(["Camera"]);
    buttons(el)[1]?.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowLeft", bubbles: true, composed: true }));
    await el.updateComplete;
    expect(el.shadowRoot?.activeElement?.textContent?.trim()).to.equal("Microphone");
  });

  it("fires one control event per button and marks the open panel pressed", async () => {
    const el = await fixture<Controls>(html`<mm-controls .panel=${"chat"} .sharedCount=${1} .unreadChat=${3}></mm-controls>`);
    const chat = buttons(el).find((b) => b.textContent?.includes("Chat"));
    expect(chat?.getAttribute("aria-pressed")).to.equal("true");
    const camera = buttons(el).find((b) => b.textContent?.trim() === "Camera");
    setTimeout(() => camera?.click());
    const event = (await oneEvent(el, "control")) as ControlEvent;
    expect(event.action).to.equal("add-camera");
    await expect(el).to.be.accessible();
  });

  it("tells what a button would do when the pointer rests on it or focus reaches it, once per button", async () => {
    const el = await fixture<Controls>(html`<mm-controls .unreadChat=${2}></mm-controls>`);
    const previews: string[] = [];
    el.addEventListener("control-preview", (e) => previews.push((e as ControlPreviewEvent).action));
    const settings = buttons(el).find((b) => b.textContent?.trim() === "Settings");
    const chatBadge = buttons(el).find((b) => b.textContent?.includes("Chat"))?.querySelector(".badge");
    settings?.dispatchEvent(new PointerEvent("pointerover", { bubbles: true, composed: true }));
    settings?.dispatchEvent(new PointerEvent("pointerover", { bubbles: true, composed: true }));
    chatBadge?.dispatchEvent(new PointerEvent("pointerover", { bubbles: true, composed: true }));
    buttons(el).find((b) => b.textContent?.trim() === "File")?.focus();
    buttons(el).find((b) => b.textContent?.trim() === "Leave")?.focus(); // nothing to preload: no event
    expect(previews).to.deep.equal(["toggle-settings", "toggle-chat", "share-files"]);
  });

  it("keeps Stop all focusable but inert when nothing is shared", async () => {
    const el = await fixture<Controls>(html`<mm-controls .sharedCount=${0}></mm-controls>`);
    const stop = buttons(el).find((b) => b.textContent?.trim() === "Stop all");
    expect(stop?.getAttribute("aria-disabled")).to.equal("true");
    let fired = false;
    el.addEventListener("control", () => (fired = true));
    stop?.click();
    expect(fired).to.equal(false);
  });
});

describe("mm-announcer", () => {
  it("speaks messages that arrive together as one polite status", async () => {
    const el = await fixture<Announcer>(html`<mm-announcer></mm-announcer>`);
    el.announce("Ana joined.");
    el.announce("Bo joined.");
    await new Promise((resolve) => setTimeout(resolve, 600));
    await el.updateComplete;
    const region = el.shadowRoot?.querySelector('[role="status"]');
    expect(region?.textContent).to.equal("Ana joined. Bo joined.");
    expect(el.history).to.deep.equal(["Ana joined. Bo joined."]);
  });
});

describe("mm-help", () => {
  it("opens as a modal dialog listing the keys and returns focus on close", async () => {
    const opener = await fixture<HTMLButtonElement>(html`<button>open</button>`);
    const el = await fixture<HelpDialog>(html`<mm-help></mm-help>`);
    opener.focus();
    el.show(opener);
    expect(el.isOpen).to.equal(true);
    const text = el.shadowRoot?.querySelector("dialog")?.textContent ?? "";
    expect(text).to.contain("Shift+C");
    expect(text).to.contain("Ctrl+Shift+C");
    await expect(el).to.be.accessible();
    el.close();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(document.activeElement).to.equal(opener);
  });
});

describe("mm-watches", () => {
  const watches = [
    { secret: "Team#abc", name: "Team", userCount: 3, current: true },
    { secret: "Other#def", name: "Other", userCount: undefined, current: false },
  ];

  it("lists known rooms with occupancy and edits the list by events", async () => {
    const el = await fixture<Watches>(html`<mm-watches .watches=${watches} .currentWatched=${true}></mm-watches>`);
    const text = el.shadowRoot?.textContent ?? "";
    expect(text).to.contain("3 people");
    expect(text).to.contain("empty");
    expect(el.shadowRoot?.querySelector('a[aria-current="page"]')?.textContent).to.equal("Team");
    await expect(el).to.be.accessible();
    const edit = [...(el.shadowRoot?.querySelectorAll("button") ?? [])].find((b) => b.textContent?.includes("Edit"));
    edit?.click();
    await el.updateComplete;
    const remove = el.shadowRoot?.querySelector<HTMLButtonElement>('button[aria-label="Remove Team"]');
    setTimeout(() => remove?.click());
    const event = (await oneEvent(el, "watches-change")) as WatchesChangeEvent;
    expect(event.secrets).to.deep.equal(["Other#def"]);
    await expect(el).to.be.accessible();
  });
});

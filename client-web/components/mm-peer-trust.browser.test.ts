/// <reference types="mocha" />
import { expect, fixture, html, oneEvent } from "@open-wc/testing";
import type { PeerKey } from "../../common/engine/room.js";
import type { TrustView } from "../trust/peer-trust.js";
import { impersonationWords, mismatchWords, spokenCode, TrustConnectEvent, TrustVerifyEvent, type MmPeerTrust } from "./mm-peer-trust.js";
import "./mm-peer-trust.js";

const KEY = "p1" as PeerKey;
const CODE = "0123 4567 8901 2345 6789 0123";

async function trust(view: TrustView): Promise<MmPeerTrust> {
  return fixture<MmPeerTrust>(html`<mm-peer-trust .trust=${view} .peerKey=${KEY} .peerName=${"Alice"}></mm-peer-trust>`);
}

const root = (el: MmPeerTrust): ShadowRoot => el.shadowRoot as ShadowRoot;
const text = (el: MmPeerTrust): string => root(el).textContent?.replace(/\s+/g, " ").trim() ?? "";
const button = (el: MmPeerTrust, words: string): HTMLButtonElement => {
  const found = [...root(el).querySelectorAll("button")].find((b) => b.textContent?.includes(words));
  if (!found) throw new Error(`no button with "${words}" in: ${text(el)}`);
  return found;
};

describe("mm-peer-trust", () => {
  it("shows the safety code on request, spelled digit by digit for screen readers, and offers to mark it verified", async () => {
    const el = await trust({ state: "unverified", code: CODE });
    expect(root(el).querySelector(".code")).to.equal(null);
    const toggle = button(el, "Safety code");
    expect(toggle.getAttribute("aria-expanded")).to.equal("false");
    toggle.click();
    await el.updateComplete;
    expect(toggle.getAttribute("aria-expanded")).to.equal("true");
    const code = root(el).querySelector(".code");
    expect(code?.textContent).to.equal(CODE);
    expect(code?.getAttribute("aria-label")).to.equal(`Safety code: ${spokenCode(CODE)}`);
    expect(spokenCode("0123 4567")).to.equal("0 1 2 3, 4 5 6 7");
    setTimeout(() => button(el, "The codes match").click());
    const event = (await oneEvent(el, TrustVerifyEvent.eventName)) as TrustVerifyEvent;
    expect([event.key, event.verified]).to.deep.equal([KEY, true]);
    await expect(el).to.be.accessible();
  });

  it("asks for a connection when the code is wanted and none exists yet", async () => {
    const el = await trust({ state: "pending" });
    setTimeout(() => button(el, "Safety code").click());
    const event = (await oneEvent(el, TrustConnectEvent.eventName)) as TrustConnectEvent;
    expect(event.key).to.equal(KEY);
    await el.updateComplete;
    expect(root(el).querySelector('[role="status"]')?.textContent).to.contain("Connecting to Alice");
  });

  it("says when and under which key a member was verified, and can forget it", async () => {
    const at = Date.UTC(2026, 11, 3, 12);
    const el = await trust({ state: "verified", code: CODE, as: { key: "k", name: "Alice", verifiedAt: at } });
    expect(root(el).querySelector("#verified")?.textContent).to.contain("Verified");
    expect(root(el).querySelector("#verified")?.textContent).to.contain(new Date(at).getFullYear().toString());
    button(el, "Safety code").click();
    await el.updateComplete;
    setTimeout(() => button(el, "Forget").click());
    const event = (await oneEvent(el, TrustVerifyEvent.eventName)) as TrustVerifyEvent;
    expect(event.verified).to.equal(false);
  });

  it("warns plainly, with no code to compare, when the connection does not end at their key", async () => {
    const el = await trust({ state: "mismatch" });
    expect(root(el).querySelector("#mismatch")?.textContent).to.equal(mismatchWords("Alice"));
    expect(root(el).querySelector("button")).to.equal(null);
    await expect(el).to.be.accessible();
  });

  it("warns when the name belongs to someone verified before under another key, whatever else holds", async () => {
    const before = { key: "other", name: "alice", verifiedAt: 1 };
    for (const view of [
      { state: "unverified", code: CODE, impersonates: before },
      { state: "unsupported", impersonates: before },
    ] as const) {
      const el = await trust(view);
      expect(root(el).querySelector("#impersonation")?.textContent).to.equal(impersonationWords("Alice", "alice"));
    }
  });

  it("shows nothing for a member who sent no key and takes no one's name", async () => {
    const el = await trust({ state: "unsupported" });
    expect(text(el)).to.equal("");
  });
});

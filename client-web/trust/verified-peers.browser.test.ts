/// <reference types="mocha" />
import { expect } from "@open-wc/testing";
import { createStore, type UseStore } from "idb-keyval";
import type { PeerKey, PeerView } from "../../common/engine/room.js";
import { loadIdentity } from "./identity-store.js";
import { peerTrust } from "./peer-trust.js";
import { VerifiedPeers } from "./verified-peers.js";

let counter = 0;
const freshStore = (): UseStore => createStore(`meshmeet-trust-test-${Date.now()}-${++counter}`, "trust");

const view = (overrides: Partial<PeerView>): PeerView => ({
  key: "p1" as PeerKey,
  clientId: 3,
  name: "Alice",
  presence: "present",
  connectionState: "connected",
  resources: new Map(),
  ...overrides,
});

describe("verified peers", () => {
  it("are remembered across loads, by key, with the name they had", async () => {
    const store = freshStore();
    const first = await VerifiedPeers.load(store);
    await first.markVerified("key-a", "Alice", 5);
    const again = await VerifiedPeers.load(store);
    expect(again.get("key-a")).to.deep.equal({ key: "key-a", name: "Alice", verifiedAt: 5 });
    await again.forget("key-a");
    expect((await VerifiedPeers.load(store)).get("key-a")).to.equal(undefined);
  });

  it("turn into the tile's words: verified, unverified, and the impostor under a verified name", async () => {
    const verified = await VerifiedPeers.load(freshStore());
    await verified.markVerified("key-a", "Alice");
    const bound = (key: string) => ({ key, binding: "bound" as const, safetyCode: "1111 2222 3333 4444 5555 6666" });
    expect(peerTrust(view({ identity: bound("key-a") }), verified).state).to.equal("verified");
    expect(peerTrust(view({ identity: bound("key-b"), name: "Bob" }), verified)).to.deep.equal({ state: "unverified", code: "1111 2222 3333 4444 5555 6666" });
    // Someone else calling themselves " alice ", with a key of their own or with none at all.
    expect(peerTrust(view({ identity: bound("key-m"), name: " alice " }), verified).impersonates?.key).to.equal("key-a");
    expect(peerTrust(view({ name: "ALICE" }), verified)).to.deep.include({ state: "unsupported" });
    expect(peerTrust(view({ name: "ALICE" }), verified).impersonates?.name).to.equal("Alice");
    expect(peerTrust(view({ identity: { key: "key-a", binding: "mismatch", safetyCode: undefined } }), verified).state).to.equal("mismatch");
    expect(peerTrust(view({ identity: { key: "key-a", binding: "pending", safetyCode: undefined } }), verified).state).to.equal("pending");
  });
});

describe("this browser's identity", () => {
  it("is made once and read back the same, with a private key that cannot be exported", async () => {
    const store = freshStore();
    const first = await loadIdentity(store);
    const again = await loadIdentity(store);
    expect(again.publicKey).to.equal(first.publicKey);
    const other = await loadIdentity(freshStore());
    expect(other.publicKey).not.to.equal(first.publicKey);
  });
});

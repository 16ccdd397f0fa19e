/// <reference types="mocha" />
import { expect } from "@open-wc/testing";
import { joinTarget } from "./join-target.js";

describe("joinTarget (start page)", () => {
  const origin = "https://meet.example";

  it("turns a typed name into a room link whose fragment keeps ?, # and %", () => {
    expect(joinTarget("50% off? #1", origin)).to.deep.equal({ url: `${origin}/room#50%25%20off%3F%20#1` });
  });

  it("follows a pasted meeting link as it is", () => {
    expect(joinTarget(" https://other.example/room#abc?username=x ", origin)).to.deep.equal({
      url: "https://other.example/room#abc?username=x",
    });
  });

  it("refuses empty input and links without a secret", () => {
    expect(joinTarget("   ", origin)).to.have.property("error");
    expect(joinTarget("https://meet.example/room", origin)).to.have.property("error");
    expect(joinTarget("https://meet.example/room#", origin)).to.have.property("error");
  });
});

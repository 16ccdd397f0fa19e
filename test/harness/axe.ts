// Accessibility check of a live page with axe-core (WCAG 2.0/2.1 A+AA and WCAG 2.2 AA rules).

import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type * as Axe from "axe-core";
import type { Page } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve("axe-core/axe.min.js");

export const AXE_TAGS: readonly string[] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** The parts of an axe violation worth showing in a failed `toEqual([])`. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  /** One CSS selector path per offending node (iframe/shadow hops joined with " >> "). */
  readonly targets: readonly string[];
}

export interface AxeOptions {
  /** Limit the check to this selector (default: the whole document). */
  readonly include?: string;
  /** Rule ids to skip, with a comment at the call site saying why. */
  readonly disableRules?: readonly string[];
}

let axeSource: Promise<string> | undefined;

/** Runs axe on `page` and returns its violations; `expect(await runAxe(page)).toEqual([])`. */
export async function runAxe(page: Page, options: AxeOptions = {}): Promise<AxeViolation[]> {
  axeSource ??= readFile(AXE_PATH, "utf8");
  // Evaluated through DevTools rather than page.addScriptTag(): an injected <script> is inline
  // and the relay's CSP allows no inline script; DevTools evaluation is not subject to it.
  const source = await axeSource;
  const loaded = await page.evaluate(`${source}\n;typeof window.axe === "object"`);
  if (loaded !== true) throw new Error("runAxe: axe-core did not load into the page");
  return page.evaluate(
    async ({ tags, include, disableRules }) => {
      // `axe` is the global axe.min.js just defined; typed with axe-core's own declarations.
      const axe = (window as unknown as { axe: typeof Axe }).axe;
      const rules: Axe.RuleObject = {};
      for (const id of disableRules) rules[id] = { enabled: false };
      const results = await axe.run(include ?? document, {
        runOnly: { type: "tag", values: tags },
        rules,
        resultTypes: ["violations"],
      });
      return results.violations.map((v) => ({
        id: v.id,
        impact: v.impact ?? null,
        help: v.help,
        targets: v.nodes.map((n) => n.target.map((t) => (Array.isArray(t) ? t.join(" >> ") : String(t))).join(" >> ")),
      }));
    },
    { tags: [...AXE_TAGS], include: options.include ?? null, disableRules: [...(options.disableRules ?? [])] },
  );
}

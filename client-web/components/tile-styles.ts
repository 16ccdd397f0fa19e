// The card look shared by participant tiles (ours and others'), so they stay alike.

import { css } from "lit";

export const tileStyles = css`
  :host {
    display: block;
    min-width: 0;
  }
  .tile {
    display: flex;
    flex-direction: column;
    gap: 0.6rem;
    padding: 0.75rem;
    border-radius: var(--radius, 10px);
    background: var(--surface-raised, #fff);
    color: var(--text, #1b1f24);
    box-shadow: 0 1px 6px rgb(0 0 0 / 0.12);
    overflow-wrap: anywhere;
  }
  /* The list of resources in a tile, one row of label and actions each. */
  ul {
    list-style: none;
    margin: 0;
    padding: 0;
    display: flex;
    flex-direction: column;
    gap: 0.6rem;
  }
  /* Speaking: a ring on the card and a word in its header (state, never an announcement). */
  .tile.speaking {
    box-shadow: 0 0 0 3px var(--accent, #3d5a80), 0 1px 6px rgb(0 0 0 / 0.12);
  }
  .speaking-badge {
    font-size: 0.85rem;
    padding: 0 0.5rem;
    border-radius: 999px;
    background: var(--accent, #3d5a80);
    color: #fff;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.6rem;
  }
`;

/** Buttons inside a tile: large enough to hit, with a visible focus ring. */
export const tileButtonStyles = css`
  button {
    font: inherit;
    min-height: 2.5rem;
    min-width: 2.5rem;
    padding: 0.3rem 0.9rem;
    border-radius: var(--radius, 10px);
    border: 1px solid var(--text-muted, #4a5360);
    background: var(--surface-raised, #fff);
    color: var(--text, #1b1f24);
    cursor: pointer;
  }
  button.on {
    border-color: var(--accent, #3d5a80);
    background: var(--accent, #3d5a80);
    color: #fff;
  }
  button:focus-visible {
    outline: 3px solid var(--focus, #0b57d0);
    outline-offset: 2px;
  }
`;

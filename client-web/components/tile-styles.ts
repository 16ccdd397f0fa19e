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
`;

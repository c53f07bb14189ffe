/**
 * Fitting the graph into the editor at a readable zoom.
 *
 * Fitting a whole graph into a small pane can shrink its nodes to specks. A node's title must
 * stay at least MIN_TITLE_PX high on screen, so the zoom never goes below the readable one:
 * when the whole graph fits at that zoom (or larger, up to MAX_FIT_ZOOM) it is shown whole and
 * centred; otherwise the editor shows the selection, or else the start of the graph (its
 * top-left corner, where sources sit), at the readable zoom, and the minimap shows the rest.
 *
 * The editor fits on first show and again whenever its size changes (a layout settling, a
 * window resized, a panel opened), until the user pans or zooms; the Fit button and `F`
 * fit again and resume following the size.
 */
import type { Rect, Viewport } from '@xyflow/react';

export const MIN_TITLE_PX = 10;
export const MAX_FIT_ZOOM = 1.2;
/** Space kept free around the fitted nodes, in screen pixels. */
export const FIT_PADDING_PX = 24;

/** The smallest zoom at which node titles (whose font size is `fontPx`) stay readable. */
export function readableZoom(fontPx: number): number {
  const font = Number.isFinite(fontPx) && fontPx > 0 ? fontPx : 12;
  // a little above the limit, so rounding never takes a title under it
  return (MIN_TITLE_PX / font) * 1.02;
}

/** The font size of node titles in this editor (12 px unless a theme says otherwise). */
export function titleFontPx(root: Element | null): number {
  const title = root?.querySelector('.bfl-node__title');
  return title ? parseFloat(getComputedStyle(title).fontSize) : 12;
}

function place(start: number, extent: number, zoom: number, size: number): number {
  // centre what fits on this axis; otherwise show its start
  if (extent * zoom + 2 * FIT_PADDING_PX <= size) {
    return (size - extent * zoom) / 2 - start * zoom;
  }
  return FIT_PADDING_PX - start * zoom;
}

/**
 * The viewport for a pane of `width`×`height` px showing `all` (the graph's bounds), or
 * `focus` (the selection's) when the graph does not fit at `readable` zoom.
 */
export function readableViewport(all: Rect, focus: Rect | null, width: number, height: number, readable: number): Viewport {
  const w = Math.max(all.width, 1);
  const h = Math.max(all.height, 1);
  const fitting = Math.min((width - 2 * FIT_PADDING_PX) / w, (height - 2 * FIT_PADDING_PX) / h, MAX_FIT_ZOOM);
  const zoom = Math.max(fitting, readable);
  const target = fitting >= readable || !focus ? all : focus;
  return {
    x: place(target.x, target.width, zoom, width),
    y: place(target.y, target.height, zoom, height),
    zoom
  };
}

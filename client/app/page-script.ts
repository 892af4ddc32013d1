/**
 * The page's one script: on the page it starts the whiteboard (./main.ts); run again as the ink's worker (there is
 * no document there), it starts the ink's painter (./ink-worker.ts). One script for both, because nearly all the
 * worker's code is the page's too (the ink's painter, rasterizer and outlines, which the page also uses for its
 * overlay, its PNG export and where there is no OffscreenCanvas): a worker script of its own repeated about 10 KB
 * gzip of it (docs/client-app.md, "Assets"). Each side is imported when it starts, so neither runs the other's module
 * code; the worker's copy of the script comes from the browser's cache.
 */
// First, while this script is still `document.currentScript`: the address the page starts its ink worker from.
import "./own-script";

if (typeof document === "undefined") void import("./ink-worker.js");
else void import("./main.js");

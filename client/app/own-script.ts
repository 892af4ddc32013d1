/**
 * The address of the script running (client/app/page-script.ts), read as it starts (`document.currentScript` is
 * gone once it has run): the page starts its ink worker with it. Undefined in a worker, and where the page's code was
 * not loaded from a script element (the render harness names its own worker).
 */
const script = typeof document === "undefined" ? null : document.currentScript;
// Not `instanceof HTMLScriptElement`: a worker has no such class.
export const OWN_SCRIPT_URL: string | undefined = script && "src" in script && script.src ? script.src : undefined;

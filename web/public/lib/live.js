// Live updates: one EventSource per page load on /v1/events ("batch" and
// "bundle" events), shared by every component that listens; no polling.
import { useEffect } from "preact/hooks";

let source;
const listeners = new Set();

function connect() {
  source = new EventSource("/v1/events");
  for (const type of ["batch", "bundle"]) {
    source.addEventListener(type, (e) => {
      const data = JSON.parse(e.data);
      for (const l of listeners) l(type, data);
    });
  }
}

/** Calls `onEvent(type, data)` for each event while the component is mounted. */
export function useLive(onEvent, deps = []) {
  useEffect(() => {
    if (!source) connect();
    listeners.add(onEvent);
    return () => listeners.delete(onEvent);
  }, deps);
}

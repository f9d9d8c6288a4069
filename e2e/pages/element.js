// Counts the workers the SDK starts and the element's events; importing the bundle defines
// <face-stylizer>, which upgrades the element declared in element.html.
const workers = [];
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(url, options) {
    super(url, options);
    workers.push(options?.name ?? String(url));
  }
};
const events = [];
const element = document.querySelector('face-stylizer');
for (const type of ['ready', 'error', 'warning', 'state']) {
  element.addEventListener(type, (event) => events.push({ type, code: event.detail?.code, state: event.detail?.state }));
}
await import('/sdk/face-stylizer.bundle.js');
window.elementRun = { workers, events };
window.e2eReady = true;

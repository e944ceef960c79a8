// A Node module-resolution hook (module.register) for the launch test: the bare specifier 'electron'
// resolves to the stand-in (./electron.mjs), exactly where Electron's own runtime would provide its module.
// It also reports every @tensorflow/* package the built main process resolves, so the test can prove that
// the main process never loads tfjs just to say which backend the trainers use.
let standIn = '';
let port = null;

export function initialize(data) {
  standIn = data.standIn;
  port = data.port;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'electron') return { url: standIn, shortCircuit: true };
  if (port && specifier.startsWith('@tensorflow/')) port.postMessage({ specifier, parentURL: context.parentURL ?? '' });
  return nextResolve(specifier, context);
}

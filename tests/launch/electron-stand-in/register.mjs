// `node --import ./tests/launch/electron-stand-in/register.mjs out/main/index.js`: the built main process as a
// whole Node process with the electron stand-in (used for the start-up failure journeys).
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url), { data: { standIn: new URL('./electron.mjs', import.meta.url).href, port: null } });

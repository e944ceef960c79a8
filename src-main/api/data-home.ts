// The data home for the hosts and the Electron shell: defined beside the store that owns it (store/data-home.ts).
export * from '../store/data-home';

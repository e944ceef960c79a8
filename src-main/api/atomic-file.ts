// Atomic file writes for the hosts (CLI exports): the store's temp-file-and-rename (store/atomic-file.ts).
export { writeFileAtomic } from '../store/atomic-file';

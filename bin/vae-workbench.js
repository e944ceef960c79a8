#!/usr/bin/env node
// The command line entry: runs the TypeScript sources through tsx (no build step needed for the CLI).
import { register } from 'tsx/esm/api';

register();
await import('../src-main/hosts/cli/main.ts');

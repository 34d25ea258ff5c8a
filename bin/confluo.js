#!/usr/bin/env node
// Launcher of `npx confluo …`: runs bin/confluo.ts through tsx (a devDependency — the CLI is a
// local development tool, never deployed).
import { register } from 'tsx/esm/api';

register();
await import('./confluo.ts');

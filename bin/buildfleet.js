#!/usr/bin/env node
// The `buildfleet` command. The sources are TypeScript, run through tsx's loader so that a
// checkout works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');

#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `wattline` works from a plain checkout without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');

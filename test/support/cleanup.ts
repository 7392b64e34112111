import { afterAll } from 'vitest';
import { removeTempDirs } from './temp.ts';

// Runs in every test file: what it wrote under the temp dir goes with it.
afterAll(removeTempDirs);

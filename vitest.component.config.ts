// Component tests: Svelte components and rune modules in jsdom, `npm run test:component`.
// svelteTesting() makes Svelte resolve its browser build and cleans up after each test
// (without it, mounting fails with lifecycle_function_unavailable).
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte({ configFile: false }), svelteTesting()],
  test: {
    include: ['test/component/**/*.test.ts'],
    environment: 'jsdom',
  },
});

import { defineConfig } from 'vite';

/** The web app: sources in web/, built to web/dist, which the server serves on its own origin. */
export default defineConfig({
  root: 'web',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts or data: modules: the Content-Security-Policy allows only our own files.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});

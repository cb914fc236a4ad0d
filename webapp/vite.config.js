// The member web app: plain modules, built into the folder the gateway serves.
import { defineConfig } from "vite";

export default defineConfig({
  build: {
    outDir: "../gateway/web",
    emptyOutDir: true,
    assetsInlineLimit: 0, // every asset a file: the CSP allows only the app's own files
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});

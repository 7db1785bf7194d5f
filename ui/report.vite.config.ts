import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// The report page (docs/observability.md "A report to attach"): dist/ui/report.html, ONE file with its
// script and styles inlined, which `jarvis diagnose --html` fills with the report's data. Built after
// the main UI (ui/vite.config.ts), into the same folder, without emptying it.
const uiRoot = fileURLToPath(new URL('.', import.meta.url));

/** Inlines the built script and style sheet into the page and drops them from the output. */
function inlineIntoHtml(): Plugin {
  return {
    name: 'jarvis-inline-report',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const page = bundle['report.html'];
      if (!page || page.type !== 'asset') throw new Error('the report build made no report.html');
      let html = String(page.source);
      for (const [name, item] of Object.entries(bundle)) {
        const file = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        if (item.type === 'chunk') {
          // `</script` inside the code would end the element early.
          const code = item.code.replace(/<\/script/gi, '<\\/script');
          html = html.replace(new RegExp(`<script[^>]*src="[^"]*${file}"[^>]*></script>`), () => `<script type="module">${code}</script>`);
          delete bundle[name];
        } else if (name.endsWith('.css')) {
          html = html.replace(new RegExp(`<link[^>]*href="[^"]*${file}"[^>]*>`), () => `<style>${String(item.source)}</style>`);
          delete bundle[name];
        }
      }
      if (/<(script|link)[^>]+(src|href)=/.test(html)) throw new Error('report.html still refers to a file');
      page.source = html;
    },
  };
}

export default defineConfig({
  root: uiRoot,
  base: './',
  publicDir: false,
  plugins: [react(), inlineIntoHtml()],
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: false,
    sourcemap: false,
    cssCodeSplit: false,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    modulePreload: { polyfill: false },
    rollupOptions: {
      input: fileURLToPath(new URL('report.html', import.meta.url)),
      output: { codeSplitting: false },
    },
  },
});

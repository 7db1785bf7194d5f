// Runs before the page is painted (a blocking script in index.html's <head>), so a dark
// theme never flashes light. The page's policy allows no inline script: hence this file.
// The same logic, kept in step, is in ui/src/lib/browser/theme.ts (docs/ui.md "Settings").
/* global localStorage, window, document */
(function () {
  var choice = 'system';
  try {
    choice = localStorage.getItem('jarvis.theme') || 'system';
  } catch {
    // storage blocked: follow the system
  }
  var dark = choice === 'dark' || (choice !== 'light' && window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
})();

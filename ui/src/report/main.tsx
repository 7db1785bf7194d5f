// The report page's entry (ui/report.html, docs/observability.md "A report to attach"): reads the
// ReportData `jarvis diagnose --html` put in the page, and draws it. No network: everything is here.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { ReportData } from '../../../src/shared/lifecycle.js';
import { ReportApp } from './ReportApp.js';
import '../styles.css';

function readData(): ReportData | string {
  const text = document.getElementById('jarvis-report-data')?.textContent?.trim() ?? '';
  // Still the placeholder (an HTML comment; JSON never starts with `<`): this script must not spell
  // it out, or the report writer could replace it here instead of in the data element.
  if (text === '' || text.startsWith('<')) return 'This page has no report in it: `jarvis diagnose --html report.html` writes one.';
  try {
    const data = JSON.parse(text) as ReportData;
    if (data?.version !== 1 || !Array.isArray(data.records)) return `Not a report this page can read (version ${String(data?.version)}).`;
    return data;
  } catch (err) {
    return `The report's data could not be read: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const prefersDark = globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false;
document.documentElement.setAttribute('data-theme', prefersDark ? 'dark' : 'light');

const root = document.getElementById('root');
if (!root) throw new Error('report.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ReportApp data={readData()} />
  </StrictMode>,
);

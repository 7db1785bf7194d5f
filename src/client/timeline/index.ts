// The timeline model shared by the `/ops` page and the report page (docs/observability.md "The live timeline").
export { Timeline } from './timeline.js';
export { filterChoices, lanesOf, matches, rangeOf } from './view.js';
export { formatMs, recordText, streamIdOf } from './records.js';
export { findingsFromReport, timelineOfReport } from './report.js';
export * from './types.js';

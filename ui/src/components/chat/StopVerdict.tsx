// Beside a stopped answer's "Stopped": whether the model really stopped (docs/ui.md "Stop"),
// with what that rests on in the tooltip. Only this tab's Stop has one: it comes with the
// stop endpoint's answer.

import type { EngineVerdict } from '../../../../src/shared/stop.js';
import { stopVerdictText } from '../../../../src/client/chat/stopVerdict.js';

export function StopVerdict({ verdict }: { verdict: EngineVerdict }) {
  const { text, title } = stopVerdictText(verdict);
  return (
    <span className={`stop-verdict verdict-${verdict.verdict}`} data-verdict={verdict.verdict} data-how={verdict.how} title={title}>
      · {text}
    </span>
  );
}

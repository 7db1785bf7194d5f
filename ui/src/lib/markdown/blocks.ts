// An answer's Markdown cut into its top-level blocks, so a streaming answer re-renders only
// its last, growing block (docs/ui.md "Fast models"): the blocks before it never change again,
// and their rendering (parsing, code highlighting) is kept. A cheap line scan, not a parse:
// a blank line outside a code fence ends a block, unless the next line is indented (a list
// item's next paragraph, indented code), which keeps it in the same block.

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** Link reference and footnote definitions reach across blocks: a text with one is rendered whole. */
const DEFINITION = /^ {0,3}\[[^\]\n]+\]:/m;

/** The blocks of `text`, in order; the blank lines between them are left out. */
export function splitBlocks(text: string): string[] {
  if (DEFINITION.test(text)) return [text];
  const blocks: string[] = [];
  let current: string[] = [];
  let blanks: string[] = [];
  let fence: string | null = null;
  for (const line of text.split('\n')) {
    if (fence !== null) {
      current.push(line);
      if (closesFence(line, fence)) fence = null;
      continue;
    }
    if (line.trim() === '') {
      if (current.length > 0) blanks.push(line);
      continue;
    }
    if (blanks.length > 0 && !/^( {2,}|\t)/.test(line)) {
      blocks.push(current.join('\n'));
      current = [];
    } else {
      current.push(...blanks);
    }
    blanks = [];
    current.push(line);
    const open = FENCE.exec(line);
    if (open) fence = open[1]!;
  }
  if (current.length > 0) blocks.push(current.join('\n'));
  return blocks;
}

function closesFence(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return trimmed.length >= fence.length && trimmed === fence[0]!.repeat(trimmed.length) && /^ {0,3}\S/.test(line);
}

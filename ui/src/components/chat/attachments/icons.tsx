// The attachments' icons, drawn like the others (components/shell/icons.tsx): they follow the text colour.

const common = { width: 16, height: 16, viewBox: '0 0 16 16', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': true } as const;

export const PaperclipIcon = () => (
  <svg {...common} width={18} height={18}>
    <path d="M13 7.5l-5.3 5.3a3 3 0 01-4.2-4.2l5.6-5.6a2 2 0 012.8 2.8l-5.5 5.5a1 1 0 01-1.4-1.4l5-5" strokeLinecap="round" strokeLinejoin="round" />
  </svg>
);

export const FileIcon = () => (
  <svg {...common}>
    <path d="M4 1.5h5l3 3v10H4z M9 1.5v3h3" strokeLinejoin="round" />
  </svg>
);

export const CloseIcon = () => (
  <svg {...common} width={12} height={12}>
    <path d="M4 4l8 8M12 4l-8 8" strokeLinecap="round" />
  </svg>
);

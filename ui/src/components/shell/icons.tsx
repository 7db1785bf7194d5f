// Inline SVG icons: no icon font or emoji font to depend on, and they follow the text colour.

const common = { width: 16, height: 16, viewBox: '0 0 16 16', fill: 'none', stroke: 'currentColor', strokeWidth: 1.5, 'aria-hidden': true } as const;

export const PencilIcon = () => (
  <svg {...common}>
    <path d="M11 2.5l2.5 2.5L6 12.5H3.5V10z" strokeLinejoin="round" />
  </svg>
);

export const TrashIcon = () => (
  <svg {...common}>
    <path d="M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.7 9h5.6l.7-9" strokeLinejoin="round" />
  </svg>
);

export const MenuIcon = () => (
  <svg {...common} width={20} height={20}>
    <path d="M2.5 4h11M2.5 8h11M2.5 12h11" strokeLinecap="round" />
  </svg>
);

export const CloseIcon = () => (
  <svg {...common}>
    <path d="M4 4l8 8M12 4l-8 8" strokeLinecap="round" />
  </svg>
);

export const SlidersIcon = () => (
  <svg {...common} width={18} height={18}>
    <path d="M2.5 4.5h6M11.5 4.5h2M2.5 11.5h2M7.5 11.5h6" strokeLinecap="round" />
    <circle cx="10" cy="4.5" r="1.5" />
    <circle cx="6" cy="11.5" r="1.5" />
  </svg>
);

export const GearIcon = () => (
  <svg {...common} width={18} height={18}>
    <path d="M13.07 6.87 L14.94 7.09 L14.94 8.91 L13.07 9.13 L12.39 10.79 L13.55 12.27 L12.27 13.55 L10.79 12.39 L9.13 13.07 L8.91 14.94 L7.09 14.94 L6.87 13.07 L5.21 12.39 L3.73 13.55 L2.45 12.27 L3.61 10.79 L2.93 9.13 L1.06 8.91 L1.06 7.09 L2.93 6.87 L3.61 5.21 L2.45 3.73 L3.73 2.45 L5.21 3.61 L6.87 2.93 L7.09 1.06 L8.91 1.06 L9.13 2.93 L10.79 3.61 L12.27 2.45 L13.55 3.73 L12.39 5.21Z" strokeLinejoin="round" />
    <circle cx="8" cy="8" r="2" />
  </svg>
);

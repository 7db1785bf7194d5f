// jsdom ships no types and @types/jsdom is not installed: the little of it the chart check uses
// (its DOMParser, to parse a chart as XML: check.ts).
declare module 'jsdom' {
  interface XmlElement {
    nodeName: string;
    namespaceURI: string | null;
    textContent: string | null;
    querySelector(selector: string): XmlElement | null;
  }
  interface XmlDocument {
    documentElement: XmlElement;
    getElementsByTagName(name: string): ArrayLike<XmlElement>;
  }
  export class JSDOM {
    constructor(html?: string);
    window: { DOMParser: new () => { parseFromString(source: string, type: string): XmlDocument } };
  }
}

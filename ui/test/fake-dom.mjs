// Just enough of a DOM for charts.js under Node: elements, text nodes, attributes, getElementById and
// `figure[data-chart]`. Text nodes keep their string as data, so a test can tell text from markup.
class Node {
  constructor(ownerDocument) {
    this.ownerDocument = ownerDocument;
    this.childNodes = [];
    this.parentNode = null;
  }
  appendChild(child) {
    return this.insertBefore(child, null);
  }
  insertBefore(child, before) {
    if (child.parentNode) {
      child.parentNode.childNodes.splice(child.parentNode.childNodes.indexOf(child), 1);
    }
    const at = before ? this.childNodes.indexOf(before) : -1;
    this.childNodes.splice(at < 0 ? this.childNodes.length : at, 0, child);
    child.parentNode = this;
    return child;
  }
  get firstChild() {
    return this.childNodes[0] ?? null;
  }
  get nextSibling() {
    if (!this.parentNode) return null;
    const siblings = this.parentNode.childNodes;
    return siblings[siblings.indexOf(this) + 1] ?? null;
  }
  get textContent() {
    return this.childNodes.map((c) => c.textContent).join('');
  }
}

export class Text extends Node {
  constructor(doc, data) {
    super(doc);
    this.nodeType = 3;
    this.data = data;
  }
  get textContent() {
    return this.data;
  }
}

export class Element extends Node {
  constructor(doc, name, namespace) {
    super(doc);
    this.nodeType = 1;
    this.localName = name;
    this.namespaceURI = namespace;
    this.attributes = new Map();
    this.hidden = false;
    this.open = false;
  }
  setAttribute(k, v) {
    if (typeof v !== 'string') throw new TypeError('attribute values are strings in a real DOM');
    this.attributes.set(k, v);
  }
  getAttribute(k) {
    return this.attributes.has(k) ? this.attributes.get(k) : null;
  }
  set innerHTML(_) {
    throw new Error('charts.js must not use innerHTML');
  }
  /** Every element below (and including) this one. */
  *walk() {
    yield this;
    for (const c of this.childNodes) {
      if (c instanceof Element) yield* c.walk();
    }
  }
  all(name) {
    return [...this.walk()].filter((e) => e.localName === name);
  }
}

export class Document extends Element {
  constructor() {
    super(null, '#document', null);
    this.ownerDocument = this;
  }
  createElementNS(ns, name) {
    return new Element(this, name, ns);
  }
  createElement(name) {
    return new Element(this, name, 'http://www.w3.org/1999/xhtml');
  }
  createTextNode(data) {
    return new Text(this, data);
  }
  getElementById(id) {
    return [...this.walk()].find((e) => e.getAttribute('id') === id) ?? null;
  }
  querySelectorAll(selector) {
    if (selector !== 'figure[data-chart]') throw new Error('fake DOM: unsupported selector ' + selector);
    return [...this.walk()].filter((e) => e.localName === 'figure' && e.getAttribute('data-chart') !== null);
  }
}

/** A page as the server renders it: a hidden figure, its JSON data and its open <details> fallback. */
export function page(kind, json) {
  const doc = new Document();
  const figure = doc.createElement('figure');
  figure.setAttribute('data-chart', kind);
  figure.setAttribute('data-source', kind + '-data');
  figure.setAttribute('data-fallback', kind + '-table');
  figure.hidden = true;
  const data = doc.createElement('script');
  data.setAttribute('id', kind + '-data');
  data.appendChild(doc.createTextNode(json));
  const details = doc.createElement('details');
  details.setAttribute('id', kind + '-table');
  details.open = true;
  doc.appendChild(figure);
  doc.appendChild(data);
  doc.appendChild(details);
  return { doc, figure, details };
}

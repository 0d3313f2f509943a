// Provided by web/build/iced-browser.ts: instantiates iced-x86's wasm in the browser build.
declare module 'virtual:iced-x86-wasm' {
  export function loadIcedWasm(): Promise<void>;
}

// Placeholder for the typed window.parley contract, which src-shared will export.
interface Window {
  readonly parley?: { readonly version: string };
}

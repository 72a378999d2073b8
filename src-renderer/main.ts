import { mount } from 'svelte';
import App from './App.svelte';
import './styles/global.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');
// window.parley comes from the preload in Electron (or from the bridge adapter in dev/test).
if (!window.parley) throw new Error('window.parley is missing: no preload or bridge');

export default mount(App, { target, props: { api: window.parley } });

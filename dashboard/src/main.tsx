// Entry point: take a token from the URL fragment first (and drop it from the address bar), then render.
import { render } from 'preact';
import { App } from './app.tsx';
import './style.css';
import { takeTokenFromFragment } from './token.ts';

takeTokenFromFragment();
const root = document.getElementById('app');
if (root !== null) render(<App />, root);

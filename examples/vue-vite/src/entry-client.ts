import { createSSRApp } from 'vue';
import App from './App.vue';
import './style.css';

// hydrates the server-rendered markup (prerender.js); App starts the recommender once mounted
createSSRApp(App).mount('#app');

package router

// Middlewares exposes the route chain to the black-box tests.
var Middlewares = middlewares

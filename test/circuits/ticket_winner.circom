pragma circom 2.1.0;
include "../../circuits/lib/ticket_bundle.circom";
component main = TicketWinner(2, 2, 2, 80, 32, 500, 2000);

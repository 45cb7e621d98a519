pragma circom 2.1.0;
include "../../circuits/lib/ticket_bundle.circom";
component main = TicketPool(2, 1234567);

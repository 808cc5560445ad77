## Aftercare messages: Spanish (neutral, "tú").
## Arguments are listed in sdk/src/l10n/mod.rs. A URL always stands alone on its own line.
## `has_name` is set by the localizer: 0 when no first name is known.

tracking-shipped =
    { $has_name ->
        [0] ¡Buenas noticias!
       *[other] ¡Buenas noticias, { $first_name }!
    } { $has_carrier ->
        [0] Tu pedido { $order_number } ya fue enviado.
       *[other] Tu pedido { $order_number } ya fue enviado con { $carrier }.
    }{ $has_tracking_number ->
        [0] {""}
       *[other] {" "}Número de seguimiento: { $tracking_number }.
    }
    Síguelo aquí:
    { $tracking_url }

tracking-out-for-delivery =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } Tu pedido { $order_number } está en reparto y debería llegar hoy.
    Síguelo en tiempo real:
    { $tracking_url }

tracking-delivered =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } Tu pedido { $order_number } ha sido entregado. ¡Esperamos que te encante!

tracking-attempted =
    { $has_name ->
        [0] Hola.
       *[other] Hola, { $first_name }.
    } { $has_carrier ->
        [0] La empresa de transporte intentó entregar tu pedido { $order_number }, pero no fue posible.
       *[other] { $carrier } intentó entregar tu pedido { $order_number }, pero no fue posible.
    } Mira los próximos pasos o elige otra fecha:
    { $tracking_url }

tracking-exception =
    { $has_name ->
        [0] Hola.
       *[other] Hola, { $first_name }.
    } Hay un problema con la entrega de tu pedido { $order_number }{ $has_carrier ->
        [0] {""}
       *[other] {" "}({ $carrier })
    }. Ya nos estamos ocupando. Detalles:
    { $tracking_url }

tracking-delayed =
    { $has_name ->
        [0] Hola.
       *[other] Hola, { $first_name }.
    } Tu pedido { $order_number } viene con retraso. { $has_eta ->
        [0] Todavía no tenemos una nueva fecha de entrega; te avisaremos.
       *[other] La nueva fecha estimada es el { $eta }.
    } ¡Disculpa la espera!
    Síguelo aquí:
    { $tracking_url }

content-tutorial =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } Así puedes sacarle el máximo partido a { $product_title }:
    { $url }

support-link =
    ¿Necesitas ayuda con tu pedido? Contacta con { $shop_name } aquí:
    { $url }

survey-nps-invite =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } ¿Recomendarías { $shop_name } a un amigo? { $replies ->
        [0] Elige del 0 al 10 aquí:
       *[other] Responde del 0 (nada probable) al 10 (muy probable) o toca aquí:
    }
    { $url }

survey-csat-invite =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } ¿Qué tan satisfecho estás con tu pedido { $order_number }? { $replies ->
        [0] Elige del 1 al 5 aquí:
       *[other] Responde del 1 (nada) al 5 (mucho) o toca aquí:
    }
    { $url }

survey-reask = Lo sentimos, no entendimos tu respuesta. Por favor, responde solo con un número del { $score_min } al { $score_max }.

survey-clarify = ¡Gracias! Tu respuesta tiene más de un número, así que no sabemos qué puntuación quisiste dar. Por favor, responde con un solo número del { $score_min } al { $score_max }.

survey-thanks =
    { $has_name ->
        [0] ¡Gracias por tu opinión!
       *[other] ¡Gracias por tu opinión, { $first_name }!
    } Nos ayuda a mejorar.

survey-closed = ¡Gracias por responder! Esta encuesta ya está cerrada, así que no podemos registrar tu respuesta.

optout-confirmed = Listo: ya no recibirás más mensajes de { $shop_name } por este medio. Para volver a recibirlos, responde START.

optin-confirmed = Vuelves a recibir mensajes de { $shop_name }. Para darte de baja en cualquier momento, responde BAJA o STOP.

help-reply =
    { $shop_name }: avisos de pedidos y encuestas. Pueden aplicarse tarifas de mensajes y datos. Para darte de baja, responde BAJA o STOP. Ayuda:
    { $url }

email-subject-shipped = Tu pedido { $order_number } está en camino

email-subject-survey = ¿Qué tal tu compra en { $shop_name }?

stop-hint = Para salir, responde BAJA.

quiet-footer = Recibes este mensaje porque hiciste un pedido en { $shop_name }.

email-footer-stop = { $replies ->
        [0] ¿No quieres recibir estos correos? Avísale a { $shop_name } y dejaremos de enviarlos.
       *[other] ¿No quieres recibir estos correos? Responde BAJA.
    }

# WhatsApp template parameters when a value is missing (a template has no selectors).
whatsapp-no-name = cliente
whatsapp-no-carrier = la empresa de transporte
whatsapp-no-tracking-number = en la página de seguimiento

## Aftercare: page labels and further messages, Spanish.

tracking-ready-for-pickup =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } Tu pedido { $order_number } está listo para recoger. Detalles y horarios:
    { $tracking_url }
survey-reminder =
    { $has_name ->
        [0] ¡Hola de nuevo!
       *[other] ¡Hola de nuevo, { $first_name }!
    } ¿Qué tal fue tu pedido { $order_number }? Cuéntanos en unos segundos:
    { $url }
survey-ces-invite =
    { $has_name ->
        [0] ¡Hola!
       *[other] ¡Hola, { $first_name }!
    } ¿Qué tan fácil fue recibir tu pedido { $order_number }? { $replies ->
        [0] Elige del 1 al 7 aquí:
       *[other] Responde del 1 (muy difícil) al 7 (muy fácil) o toca aquí:
    }
    { $url }
review-request =
    ¡Gracias por tu excelente calificación! ¿La compartirías en una reseña breve? Ayuda a otros clientes:
    { $url }
support-detractor-alert = Cliente insatisfecho: el pedido { $order_number } recibió { $kind } { $score }.{ $has_comment ->
        [0] {""}
       *[other] {" "}Comentario: { $comment }
    }
email-subject-update = Novedades sobre tu pedido { $order_number }
email-subject-alert = Cliente insatisfecho en el pedido { $order_number }
tutorials-intro = Primeros pasos con tu compra:
page-order = Pedido
page-status = Estado
page-carrier = Transportista
page-tracking-number = Número de seguimiento
page-estimated-delivery = Entrega estimada
page-track-on-carrier = Seguir en la web del transportista
page-timeline = Historial del envío
page-items = Artículos
page-tutorials = Guías de tus productos
page-support = Contactar con soporte
page-link-invalid = Este enlace no es válido.
page-link-expired = Este enlace ha caducado.
page-unavailable = Esta página no está disponible en este momento. Inténtalo de nuevo en unos minutos.
status-confirmed = Pedido confirmado
status-label-created = Etiqueta creada
status-picked-up = Recogido por el transportista
status-in-transit = En tránsito
status-out-for-delivery = En reparto
status-attempted-delivery = Intento de entrega
status-ready-for-pickup = Listo para recoger
status-delivered = Entregado
status-delayed = Retrasado
status-exception = Problema con la entrega
status-returned = Devuelto al remitente
status-cancelled = Cancelado
status-unknown = Actualización de estado
survey-nps-question = ¿Qué probabilidad hay de que recomiendes { $shop_name } a un amigo?
survey-csat-question = ¿Qué tan satisfecho estás con tu pedido de { $shop_name }?
survey-ces-question = ¿Qué tan fácil fue recibir tu pedido de { $shop_name }?
survey-nps-low = Nada probable
survey-nps-high = Muy probable
survey-csat-low = Muy insatisfecho
survey-csat-high = Muy satisfecho
survey-ces-low = Muy difícil
survey-ces-high = Muy fácil
survey-comment-label = ¿Cuál es el motivo principal de tu puntuación? (opcional)
survey-submit = Enviar
survey-confirm-hint = Tu puntuación está seleccionada. Toca Enviar para confirmarla.
survey-already-answered = Ya respondiste. ¡Gracias!
survey-pick-a-score = Elige una puntuación.
dash-title = Satisfacción de los clientes
dash-response-rate = Tasa de respuesta
dash-trend = NPS por semana
dash-distribution = Distribución de puntuaciones
dash-by-carrier = Por transportista
dash-by-product = Por producto
dash-by-lateness = Por retraso en la entrega
dash-week = Semana
dash-responses = Respuestas
dash-login-title = Iniciar sesión en el panel
dash-login-key = Clave del panel
dash-login-submit = Iniciar sesión
dash-login-wrong = Esa clave no es correcta.
dash-logout = Cerrar sesión

# The carrier's own text and the pickup point (tracking sources).
carrier-note = El transportista informa: { $carrier_note }
pickup-point = Punto de recogida: { $pickup_point }
page-pickup-point = Punto de recogida
dash-too-few = Muy pocas respuestas para calcular la puntuación
dash-csat-distribution = Respuestas CSAT (1–5)
dash-ces-distribution = Respuestas CES (1–7)
dash-group = Grupo
dash-lateness-on-time = A tiempo
dash-lateness-1-2 = 1–2 días de retraso
dash-lateness-3-plus = 3 o más días de retraso
dash-unknown = Desconocido
dash-download = Descargar las respuestas:
recovery-apology =
    { $has_name ->
        [0] Lo sentimos:
       *[other] { $first_name }, lo sentimos:
    } tu pedido { $order_number } no llegó como debía. Ya nos estamos ocupando y lo vamos a resolver.
recovery-apology-code =
    { $has_name ->
        [0] Lo sentimos:
       *[other] { $first_name }, lo sentimos:
    } tu pedido { $order_number } no llegó como debía. Como disculpa, tienes un { $discount } de descuento en tu próximo pedido con el código { $code }.

page-error-help = En { $shop_name } te ayudamos con gusto con tu pedido.
page-back-to-shop = Volver a { $shop_name }
survey-review-prompt = ¡Nos alegra que te haya gustado! ¿Lo contarías en una reseña?
survey-review-link = Escribir una reseña

# The dashboard's retention page.
ret-title = Retención
ret-customers = Clientes
ret-repeat-customers = Compraron dos veces o más
ret-repeat-rate = Volvieron a comprar en { $days } días
ret-median = Mediana hasta el segundo pedido
ret-days = { $days } días
ret-churn = Perdidos: sin pedidos desde hace { $days } días ({ $multiple } × el intervalo mediano de { $median } días)
ret-churn-none = Pérdida: ningún cliente ha comprado dos veces todavía
ret-too-few = Muy pocos clientes
ret-download = Descargar las cifras:
ret-costs = Lo que cuesta la experiencia
ret-compare-with = frente a
ret-compare-too-few = muy pocos clientes para comparar
ret-compare-same = sin diferencia clara
ret-compare-less = { $points } puntos menos
ret-compare-more = { $points } puntos más
ret-chart-lateness = Recompra según el retraso de la primera entrega (intervalos del 95%)
ret-chart-cohorts = Proporción con un segundo pedido, por meses desde el primero, por mes del primer pedido
ret-cohorts = Cohortes
ret-first-order = Primer pedido
ret-months = mes { $months }
ret-dim-lateness = Retraso de la entrega
ret-dim-carrier = Transportista
ret-dim-exception = Incidencia en el envío
ret-dim-failed-attempt = Intento de entrega fallido
ret-dim-nps = Respuesta NPS
ret-dim-csat = Respuesta CSAT
ret-dim-ces = Respuesta CES
ret-dim-product = Primer producto
ret-dim-recovery = Compensación
ret-yes = Sí
ret-no = No
ret-group-promoter = Promotores
ret-group-passive = Pasivos
ret-group-detractor = Detractores
ret-group-satisfied = Satisfechos
ret-group-neutral = Neutrales
ret-group-unsatisfied = Insatisfechos
ret-group-easy = Fácil
ret-group-hard = Difícil
ret-group-recovered = Con compensación
ret-group-not-recovered = Sin compensación
